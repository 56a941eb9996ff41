/*
 * Error reporting.  Fallible functions take a GError **errp last and return
 * false/NULL/-1 on failure; error_setg() fills errp if it is not NULL.
 * Fatal user-facing errors print one line "kestrel: <message>" to stderr.
 */
#ifndef KESTREL_CORE_ERROR_H
#define KESTREL_CORE_ERROR_H

#include <glib.h>

GQuark kestrel_error_quark(void);
#define KESTREL_ERROR kestrel_error_quark()

#define error_setg(errp, ...) g_set_error((errp), KESTREL_ERROR, 0, __VA_ARGS__)

/* Print "kestrel: message" (printf format) to stderr. */
void error_report(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
/* Print a warning line "kestrel: warning: message". */
void warn_report(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
/* Report err (if any) and free it. */
void error_report_err(GError *err);

#endif
