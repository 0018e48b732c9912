#ifndef GREETING_H
#define GREETING_H
const char *greeting(int hello);
#endif
