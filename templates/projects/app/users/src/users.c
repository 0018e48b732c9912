// The app's users service, in C: answers `/` (the path below its route, /users) and calls the
// greet service in-process at http://greet.internal/ (its `calls` in the app's wasmforge.toml
// allow it). The bindings are generated from wit/ with wit-bindgen-c.

#include <string.h>

#include "http.h"

#define CHUNK 4096  // the most one blocking-write-and-flush takes

typedef wasi_http_types_own_outgoing_response_t response_t;

// Adds `name: value` to `headers`.
static void add_header(wasi_http_types_own_fields_t headers, const char *name, const char *value) {
    wasi_http_types_field_name_t key;
    http_string_dup(&key, name);
    wasi_http_types_field_value_t val = {(uint8_t *)value, strlen(value)};
    wasi_http_types_header_error_t err;
    wasi_http_types_method_fields_append(wasi_http_types_borrow_fields(headers), &key, &val, &err);
    http_string_free(&key);
}

// Writes `len` bytes to the response body's stream, CHUNK at a time.
static bool write_all(wasi_io_streams_own_output_stream_t out, const uint8_t *data, size_t len) {
    while (len > 0) {
        size_t n = len < CHUNK ? len : CHUNK;
        http_list_u8_t bytes = {(uint8_t *)data, n};
        wasi_io_streams_stream_error_t err;
        if (!wasi_io_streams_method_output_stream_blocking_write_and_flush(
                wasi_io_streams_borrow_output_stream(out), &bytes, &err)) {
            return false;
        }
        data += n;
        len -= n;
    }
    return true;
}

// Sends a response with `status` and `headers`; `body_out` gets the body's stream to write.
static wasi_http_types_own_outgoing_body_t respond(
    exports_wasi_http_incoming_handler_own_response_outparam_t out, uint16_t status,
    wasi_http_types_own_fields_t headers, wasi_io_streams_own_output_stream_t *body_out) {
    response_t response = wasi_http_types_constructor_outgoing_response(headers);
    wasi_http_types_method_outgoing_response_set_status_code(
        wasi_http_types_borrow_outgoing_response(response), status);
    wasi_http_types_own_outgoing_body_t body;
    wasi_http_types_method_outgoing_response_body(
        wasi_http_types_borrow_outgoing_response(response), &body);
    wasi_http_types_method_outgoing_body_write(wasi_http_types_borrow_outgoing_body(body), body_out);
    wasi_http_types_result_own_outgoing_response_error_code_t result = {.is_err = false};
    result.val.ok = response;
    wasi_http_types_static_response_outparam_set(out, &result);
    return body;
}

// Ends a response body.
static void finish(wasi_http_types_own_outgoing_body_t body,
                   wasi_io_streams_own_output_stream_t stream) {
    wasi_io_streams_output_stream_drop_own(stream);
    wasi_http_types_error_code_t err;
    wasi_http_types_static_outgoing_body_finish(body, NULL, &err);
}

static void text(exports_wasi_http_incoming_handler_own_response_outparam_t out, uint16_t status,
                 wasi_http_types_own_fields_t headers, const char *body_text) {
    wasi_io_streams_own_output_stream_t stream;
    wasi_http_types_own_outgoing_body_t body = respond(out, status, headers, &stream);
    write_all(stream, (const uint8_t *)body_text, strlen(body_text));
    finish(body, stream);
}

// GETs `path` from `authority` (in an app, another service: NAME.internal). Returns the
// status (502 when no response came) and copies up to `cap - 1` bytes of the body into `body`.
static uint16_t fetch(const char *authority, const char *path, char *body, size_t cap) {
    body[0] = 0;
    wasi_http_types_own_outgoing_request_t request =
        wasi_http_types_constructor_outgoing_request(wasi_http_types_constructor_fields());
    wasi_http_types_borrow_outgoing_request_t req = wasi_http_types_borrow_outgoing_request(request);
    wasi_http_types_scheme_t scheme = {.tag = WASI_HTTP_TYPES_SCHEME_HTTP};
    wasi_http_types_method_outgoing_request_set_scheme(req, &scheme);
    http_string_t text;
    http_string_dup(&text, authority);
    wasi_http_types_method_outgoing_request_set_authority(req, &text);
    http_string_free(&text);
    http_string_dup(&text, path);
    wasi_http_types_method_outgoing_request_set_path_with_query(req, &text);
    http_string_free(&text);

    wasi_http_outgoing_handler_own_future_incoming_response_t future;
    wasi_http_outgoing_handler_error_code_t error;
    if (!wasi_http_outgoing_handler_handle(request, NULL, &future, &error)) {
        wasi_http_types_error_code_free(&error);
        return 502;
    }
    wasi_http_types_borrow_future_incoming_response_t pending =
        wasi_http_types_borrow_future_incoming_response(future);
    wasi_io_poll_own_pollable_t ready = wasi_http_types_method_future_incoming_response_subscribe(pending);
    wasi_io_poll_method_pollable_block(wasi_io_poll_borrow_pollable(ready));
    wasi_io_poll_pollable_drop_own(ready);

    uint16_t status = 502;
    wasi_http_types_result_result_own_incoming_response_error_code_void_t got;
    if (wasi_http_types_method_future_incoming_response_get(pending, &got) && !got.is_err) {
        if (got.val.ok.is_err) {
            wasi_http_types_error_code_free(&got.val.ok.val.err);
        } else {
            wasi_http_types_own_incoming_response_t response = got.val.ok.val.ok;
            wasi_http_types_borrow_incoming_response_t res =
                wasi_http_types_borrow_incoming_response(response);
            status = wasi_http_types_method_incoming_response_status(res);
            wasi_http_types_own_incoming_body_t in_body;
            if (wasi_http_types_method_incoming_response_consume(res, &in_body)) {
                wasi_io_streams_own_input_stream_t in;
                wasi_http_types_method_incoming_body_stream(
                    wasi_http_types_borrow_incoming_body(in_body), &in);
                size_t len = 0;
                for (;;) {
                    http_list_u8_t chunk;
                    wasi_io_streams_stream_error_t err;
                    if (!wasi_io_streams_method_input_stream_blocking_read(
                            wasi_io_streams_borrow_input_stream(in), CHUNK, &chunk, &err)) {
                        break;  // closed: the whole body was read
                    }
                    size_t n = chunk.len < cap - 1 - len ? chunk.len : cap - 1 - len;
                    memcpy(body + len, chunk.ptr, n);
                    len += n;
                    http_list_u8_free(&chunk);
                }
                body[len] = 0;
                wasi_io_streams_input_stream_drop_own(in);
                wasi_http_types_incoming_body_drop_own(in_body);
            }
            wasi_http_types_incoming_response_drop_own(response);
        }
    }
    wasi_http_types_future_incoming_response_drop_own(future);
    return status;
}

void exports_wasi_http_incoming_handler_handle(
    exports_wasi_http_incoming_handler_own_incoming_request_t request,
    exports_wasi_http_incoming_handler_own_response_outparam_t out) {
    wasi_http_types_borrow_incoming_request_t req = wasi_http_types_borrow_incoming_request(request);
    wasi_http_types_method_t method;
    wasi_http_types_method_incoming_request_method(req, &method);
    http_string_t target = {0};
    wasi_http_types_method_incoming_request_path_with_query(req, &target);
    size_t path_len = 0;
    while (path_len < target.len && target.ptr[path_len] != '?') path_len++;
    bool get = method.tag == WASI_HTTP_TYPES_METHOD_GET;
    bool root = path_len == 1 && target.ptr[0] == '/';
    bool chain = path_len == 6 && memcmp(target.ptr, "/chain", 6) == 0;
    wasi_http_types_own_fields_t headers = wasi_http_types_constructor_fields();
    add_header(headers, "content-type", "text/plain; charset=utf-8");

    if (get && root) {
        text(out, 200, headers, "users (in C): ada, grace, linus\n");
    } else if (get && chain) {
        // users → greet, in-process.
        static char answer[4096];
        static char reply[4200];
        uint16_t status = fetch("greet.internal", "/", answer, sizeof answer);
        size_t n = strlen("users \xe2\x86\x92 ");
        memcpy(reply, "users \xe2\x86\x92 ", n);
        memcpy(reply + n, answer, strlen(answer) + 1);
        text(out, status, headers, reply);
    } else {
        text(out, 404, headers, "not found\n");
    }
    http_string_free(&target);
    if (method.tag == WASI_HTTP_TYPES_METHOD_OTHER) http_string_free(&method.val.other);
    wasi_http_types_incoming_request_drop_own(request);
}
