/* What the serve module's files share. */
#ifndef EB_SERVE_IMPL_H
#define EB_SERVE_IMPL_H

#include "edgebench/serve.h"

struct curl_slist;
/* A JSON POST's headers, with the API key as a bearer token when there is
 * one (curl_slist_free_all frees them). */
struct curl_slist *serve_headers(const char *api_key);
/* The request's JSON body (malloc'd). */
char *serve_request_body(const eb_serve_spec *spec, const char *prompt);
/* Sends one request and waits for its end; times from t0 (eb_now()). */
void serve_request(const eb_serve_spec *spec, const char *prompt, double t0, eb_request_result *r);

/* A response body's bytes as a request's stream, fed chunk bytes at a
 * time (the fuzzer's and the tests' way in); r as serve_request leaves it. */
void serve_parse_stream(const char *bytes, size_t n, size_t chunk, eb_request_result *r);

#endif
