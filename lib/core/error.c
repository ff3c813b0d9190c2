#include "edgebench/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *eb_status_name(eb_status status)
{
    switch (status) {
    case EB_OK:
        return "ok";
    case EB_E_INVALID_ARG:
        return "invalid_argument";
    case EB_E_IO:
        return "io";
    case EB_E_NOT_GGUF:
        return "not_gguf";
    case EB_E_TRUNCATED:
        return "truncated";
    case EB_E_UNSUPPORTED:
        return "unsupported";
    case EB_E_CONTEXT:
        return "context_too_small";
    case EB_E_ENGINE:
        return "engine";
    case EB_E_NO_MEMORY:
        return "no_memory";
    case EB_E_NOT_AVAILABLE:
        return "not_available";
    case EB_E_INTERNAL:
        return "internal";
    case EB_E_NETWORK:
        return "network";
    }
    return "unknown";
}

eb_status eb_fail(eb_error *err, eb_status status, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->status = status;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return status;
}

void eb_error_clear(eb_error *err)
{
    if (err) {
        err->status = EB_OK;
        err->msg[0] = '\0';
    }
}
