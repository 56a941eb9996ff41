/*
 * Helpers for chardev and monitor tests: a recording frontend, a Unix-socket
 * peer, and main-loop waits with generous deadlines (never timing asserts).
 */
#ifndef KESTREL_TEST_CHR_UTIL_H
#define KESTREL_TEST_CHR_UTIL_H

#include "chardev/chardev.h"

#include <stdbool.h>

#define CHR_TEST_DEADLINE_US (20 * G_USEC_PER_SEC)

/* A frontend that records what it gets. */
typedef struct FakeFe {
    GByteArray *rx;
    int room;                 /* what can_receive answers */
    unsigned events[8];       /* count per ChardevEvent */
    ChardevFrontend fe;
} FakeFe;

void fake_fe_init(FakeFe *f);
void fake_fe_clear(FakeFe *f);
bool fake_fe_has(const FakeFe *f, const char *s);

/* A temporary directory for sockets and files (removed by chr_test_tmp_free). */
char *chr_test_tmpdir(void);
void chr_test_tmp_free(char *dir);

/* Connect to a Unix socket / listen on one; -1 on failure. */
int unix_connect(const char *path);
int unix_listen(const char *path);
void send_str(int fd, const char *s);

/* Run ctx until cond(arg) is true or the deadline passes; returns cond. */
bool run_until(GMainContext *ctx, bool (*cond)(void *arg), void *arg);
/* Run ctx while reading fd into acc until acc contains needle. */
bool read_until(GMainContext *ctx, int fd, GString *acc, const char *needle);

#endif
