/*
 * Parsing of backend option strings as QEMU spells them:
 * "TYPE,key=value,key=value,..." where a key may repeat (hostfwd=).
 * Values cannot contain commas (QEMU's ",," escape is accepted: it
 * stands for one comma).
 */
#ifndef KESTREL_NET_OPTS_H
#define KESTREL_NET_OPTS_H

#include <glib.h>
#include <stdbool.h>

typedef struct NetOpt {
    char *key;
    char *value; /* NULL for a bare word after the type */
    bool used;
} NetOpt;

typedef struct NetOpts {
    char *type;
    NetOpt *opts;
    unsigned nr;
} NetOpts;

bool net_opts_parse(NetOpts *o, const char *s, GError **errp);
void net_opts_free(NetOpts *o);
/* The last value of key (marked used), or NULL. */
const char *net_opts_get(NetOpts *o, const char *key);
/* The i-th occurrence of key (marked used), or NULL. */
const char *net_opts_get_nth(NetOpts *o, const char *key, unsigned i);
bool net_opts_get_bool(NetOpts *o, const char *key, bool def, bool *out,
                       GError **errp);
/* An error naming the first key nobody asked for. */
bool net_opts_check_all_used(NetOpts *o, GError **errp);

#endif
