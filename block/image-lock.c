/*
 * image-lock.c: OFD byte locks on image files (see image-lock.h for the
 * byte layout).  The locks live on a file descriptor of their own, so they
 * are independent of how the block layer opens the image and they go away
 * with the process.
 */
#include "block/image-lock.h"
#include "block/block.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#define LOCK_PERM_BASE 100
#define LOCK_SHARED_BASE 200
#define PERM_READ 0
#define PERM_WRITE 1

struct ImageLock {
    int fd;
};

static int set_lock(int fd, off_t byte, short type)
{
    struct flock fl = {
        .l_type = type, .l_whence = SEEK_SET, .l_start = byte, .l_len = 1,
    };
    return fcntl(fd, F_OFD_SETLK, &fl) == 0 ? 0 : -errno;
}

/* Is byte locked through another open file description?  0: no, 1: yes. */
static int test_lock(int fd, off_t byte)
{
    struct flock fl = {
        .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = byte, .l_len = 1,
    };
    if (fcntl(fd, F_OFD_GETLK, &fl) != 0) {
        return -errno;
    }
    return fl.l_type != F_UNLCK;
}

static const char *perm_name(int p)
{
    return p == PERM_WRITE ? "write" : "consistent read";
}

ImageLock *image_lock(const char *filename, bool write, GError **errp)
{
    int fd = open(filename, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        g_set_error(errp, BLOCK_ERROR, errno, "Could not open '%s': %s",
                    filename, g_strerror(errno));
        return NULL;
    }
    /* What we take: our permissions, then what we refuse to others. */
    int perms[2] = { PERM_READ, PERM_WRITE };
    int nperms = write ? 2 : 1;
    int unshared[1] = { PERM_WRITE };
    for (int i = 0; i < nperms; i++) {
        int r = test_lock(fd, LOCK_SHARED_BASE + perms[i]);
        if (r != 0) {
            if (r > 0) {
                g_set_error(errp, BLOCK_ERROR, EAGAIN,
                            "Failed to get \"%s\" lock on '%s': is another "
                            "process using the image?", perm_name(perms[i]),
                            filename);
            } else {
                g_set_error(errp, BLOCK_ERROR, -r, "Could not test the locks "
                            "of '%s': %s", filename, g_strerror(-r));
            }
            close(fd);
            return NULL;
        }
    }
    for (int i = 0; i < 1; i++) {
        int r = test_lock(fd, LOCK_PERM_BASE + unshared[i]);
        if (r != 0) {
            if (r > 0) {
                g_set_error(errp, BLOCK_ERROR, EAGAIN,
                            "Failed to get shared \"%s\" lock on '%s': is "
                            "another process using the image?",
                            perm_name(unshared[i]), filename);
            } else {
                g_set_error(errp, BLOCK_ERROR, -r, "Could not test the locks "
                            "of '%s': %s", filename, g_strerror(-r));
            }
            close(fd);
            return NULL;
        }
    }
    int r = 0;
    for (int i = 0; i < nperms && r == 0; i++) {
        r = set_lock(fd, LOCK_PERM_BASE + perms[i], F_RDLCK);
    }
    if (r == 0) {
        r = set_lock(fd, LOCK_SHARED_BASE + unshared[0], F_RDLCK);
    }
    if (r != 0) {
        g_set_error(errp, BLOCK_ERROR, -r, "Could not lock '%s': %s",
                    filename, g_strerror(-r));
        close(fd);
        return NULL;
    }
    ImageLock *l = g_new0(ImageLock, 1);
    l->fd = fd;
    return l;
}

void image_unlock(ImageLock *l)
{
    if (l) {
        close(l->fd);
        g_free(l);
    }
}
