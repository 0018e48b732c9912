#include "greeting.h"
const char *greeting(int hello) { return hello ? "Hello" : "Goodbye"; }
