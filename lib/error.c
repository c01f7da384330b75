/* The error table's lookups; see error.h. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <uv.h>

const char *k8c_strerror(int code)
{
    switch (code) {
    case 0:
        return "success";
#define K8C_ERROR_MSG(name, value, msg)                                                            \
    case name:                                                                                     \
        return msg;
        K8C_ERRORS(K8C_ERROR_MSG)
#undef K8C_ERROR_MSG
    default:
        break;
    }
    if (code < 0)
        return uv_strerror(code); /* covers -errno and UV_* codes */
    return "unknown error";
}

const char *k8c_errname(int code)
{
    switch (code) {
    case 0:
        return "OK";
#define K8C_ERROR_NAME(name, value, msg)                                                           \
    case name:                                                                                     \
        return #name;
        K8C_ERRORS(K8C_ERROR_NAME)
#undef K8C_ERROR_NAME
    default:
        break;
    }
    if (code < 0)
        return uv_err_name(code);
    return "UNKNOWN";
}

void k8c_errmsg_printf(char *errmsg, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errmsg, K8C_ERRMSG_SIZE, fmt, ap);
    va_end(ap);
}
