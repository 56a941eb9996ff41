/*
 * Error reporting: one line on stderr, prefixed with the program name.
 */
#include <stdarg.h>
#include <stdio.h>

#include "core/error.h"

GQuark kestrel_error_quark(void)
{
    return g_quark_from_static_string("kestrel-error-quark");
}

static void vreport(const char *prefix, const char *fmt, va_list ap)
{
    fprintf(stderr, "%s: %s", g_get_prgname() ? g_get_prgname() : "kestrel",
            prefix);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void error_report(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport("", fmt, ap);
    va_end(ap);
}

void warn_report(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport("warning: ", fmt, ap);
    va_end(ap);
}

void error_report_err(GError *err)
{
    if (err) {
        error_report("%s", err->message);
        g_error_free(err);
    }
}
