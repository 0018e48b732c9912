// An HTTP component (the `wasi:http/proxy` world of WASI 0.2) in C, on the bindings wasmforge
// generates from wit/ with wit-bindgen-c (target/wasmforge/wit-bindgen/…/http.h). Every request
// gets a fresh instance: nothing is shared between requests unless the host grants it.

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
    bool root = path_len == 1 && target.ptr[0] == '/';
    bool echo = path_len == 5 && memcmp(target.ptr, "/echo", 5) == 0;
    wasi_http_types_own_fields_t headers = wasi_http_types_constructor_fields();

    if (root && method.tag == WASI_HTTP_TYPES_METHOD_GET) {
        add_header(headers, "content-type", "text/plain; charset=utf-8");
        add_header(headers, "x-served-by", "{{name}}");
        text(out, 200, headers, "Hello from {{name}}, a WebAssembly HTTP component!\n");
    } else if (echo && method.tag == WASI_HTTP_TYPES_METHOD_POST) {
        // The request's body, streamed back as it arrives.
        wasi_http_types_own_fields_t in_headers = wasi_http_types_method_incoming_request_headers(req);
        wasi_http_types_field_name_t key;
        http_string_dup(&key, "content-type");
        wasi_http_types_list_field_value_t kinds;
        wasi_http_types_method_fields_get(wasi_http_types_borrow_fields(in_headers), &key, &kinds);
        if (kinds.len > 0) {
            wasi_http_types_header_error_t err;
            wasi_http_types_method_fields_append(wasi_http_types_borrow_fields(headers), &key,
                                                 &kinds.ptr[0], &err);
        }
        wasi_http_types_list_field_value_free(&kinds);
        http_string_free(&key);
        wasi_http_types_fields_drop_own(in_headers);

        wasi_http_types_own_incoming_body_t in_body;
        wasi_http_types_method_incoming_request_consume(req, &in_body);
        wasi_io_streams_own_input_stream_t in;
        wasi_http_types_method_incoming_body_stream(wasi_http_types_borrow_incoming_body(in_body), &in);
        wasi_io_streams_own_output_stream_t stream;
        wasi_http_types_own_outgoing_body_t body = respond(out, 200, headers, &stream);
        for (;;) {
            http_list_u8_t chunk;
            wasi_io_streams_stream_error_t err;
            if (!wasi_io_streams_method_input_stream_blocking_read(
                    wasi_io_streams_borrow_input_stream(in), CHUNK, &chunk, &err)) {
                break;  // closed: the whole body was read
            }
            bool ok = write_all(stream, chunk.ptr, chunk.len);
            http_list_u8_free(&chunk);
            if (!ok) break;
        }
        wasi_io_streams_input_stream_drop_own(in);
        wasi_http_types_incoming_body_drop_own(in_body);
        finish(body, stream);
    } else if (root || echo) {
        add_header(headers, "allow", root ? "GET" : "POST");
        text(out, 405, headers, "");
    } else {
        text(out, 404, headers, "not found\n");
    }
    http_string_free(&target);
    if (method.tag == WASI_HTTP_TYPES_METHOD_OTHER) http_string_free(&method.val.other);
    wasi_http_types_incoming_request_drop_own(request);
}
