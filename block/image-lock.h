/*
 * image-lock.h: advisory locks on image files so that two processes do not
 * write one image at once (or read it while another writes).  Open file
 * description locks (fcntl F_OFD_SETLK) on single bytes, at the offsets
 * QEMU uses, so Kestrel and QEMU also keep out of each other's way:
 *   byte 100 + p   held (shared) by a user that has permission p
 *   byte 200 + p   held (shared) by a user that lets nobody else have p
 * with p = 0 consistent read, 1 write.  A writer holds 100, 101 and 201;
 * a reader holds 100 and 201 (it wants the content to stay put).  Taking
 * permission p fails if someone holds 200 + p, and refusing p to others
 * fails if someone holds 100 + p.
 */
#ifndef KESTREL_BLOCK_IMAGE_LOCK_H
#define KESTREL_BLOCK_IMAGE_LOCK_H

#include <stdbool.h>
#include <glib.h>

typedef struct ImageLock ImageLock;

/* Lock filename for reading (write = false) or writing.  The error names
 * the lock that could not be had, as QEMU does:
 *   Failed to get "write" lock / Failed to get shared "write" lock */
ImageLock *image_lock(const char *filename, bool write, GError **errp);
void image_unlock(ImageLock *l);

#endif
