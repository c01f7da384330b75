/* Line-oriented logging to stderr; see log.h. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int k8c_log_verbosity;
static char log_component[32] = "k8c";

void k8c_log_init(const char *component)
{
    snprintf(log_component, sizeof(log_component), "%s", component);
}

void k8c_log(enum k8c_log_level level, const char *fmt, ...)
{
    static const char letters[] = "EWID";
    char line[2048];
    struct timespec ts;
    struct tm tm;
    size_t n;
    va_list ap;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    n = (size_t)snprintf(line, sizeof(line), "%c %04d-%02d-%02dT%02d:%02d:%02d.%06ldZ %s ",
                         letters[level], tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                         tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000, log_component);
    va_start(ap, fmt);
    if (n < sizeof(line))
        vsnprintf(line + n, sizeof(line) - n, fmt, ap);
    va_end(ap);
    n = strlen(line);
    if (n > sizeof(line) - 2)
        n = sizeof(line) - 2;
    line[n++] = '\n';
    /* One write per line so lines from several threads never interleave. */
    fwrite(line, 1, n, stderr);
}
