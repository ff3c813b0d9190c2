/* One error enum for the whole library; every failure carries a message that
 * names the file, key or value at fault. */
#ifndef EDGEBENCH_ERROR_H
#define EDGEBENCH_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum eb_status {
    EB_OK = 0,
    EB_E_INVALID_ARG,   /* a bad option or value */
    EB_E_IO,            /* a file could not be read or written */
    EB_E_NOT_GGUF,      /* the file is not a GGUF model */
    EB_E_TRUNCATED,     /* a GGUF whose tensor data runs past the end of the file */
    EB_E_UNSUPPORTED,   /* an architecture or feature the engine does not support */
    EB_E_CONTEXT,       /* the context cannot hold prompt + generation */
    EB_E_ENGINE,        /* the inference engine failed */
    EB_E_NO_MEMORY,     /* an allocation failed */
    EB_E_NOT_AVAILABLE, /* a measurement source is absent on this device */
    EB_E_INTERNAL,
    EB_E_NETWORK /* a node or server could not be reached, or stopped answering */
} eb_status;

typedef struct eb_error {
    eb_status status;
    char msg[768];
} eb_error;

/* Stable short name of a status, e.g. "not_gguf". */
const char *eb_status_name(eb_status status);

/* Records status and a printf-style message in err (which may be NULL) and
 * returns status, so callers can write `return eb_fail(err, ...)`. */
eb_status eb_fail(eb_error *err, eb_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

void eb_error_clear(eb_error *err);

#ifdef __cplusplus
}
#endif
#endif
