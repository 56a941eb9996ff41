/*
 * The file backend (file:PATH, -chardev file,path=PATH[,append=on]): output
 * goes to a file, truncated at open unless append=on; there is no input.
 */
#include "chardev/chardev-internal.h"
#include "core/error.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

typedef struct FileChardev {
    Chardev parent;
    int fd;
} FileChardev;

static size_t file_write(Chardev *c, const uint8_t *buf, size_t len)
{
    FileChardev *f = (FileChardev *)c;

    return chr_write_all(f->fd, buf, len, -1) ? len : 0;
}

static void file_finalize(Chardev *c)
{
    FileChardev *f = (FileChardev *)c;

    close(f->fd);
}

static const ChardevClass file_class = {
    .name = "file",
    .write = file_write,
    .finalize = file_finalize,
};

Chardev *chr_file_new(const ChardevOpts *o, const ChardevHost *h, GError **errp)
{
    FileChardev *f;
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC |
                (o->append == 1 ? O_APPEND : O_TRUNC);
    int fd;

    if (!o->path || !o->path[0]) {
        error_setg(errp, "chardev file: a path is required");
        return NULL;
    }
    fd = open(o->path, flags, 0666);
    if (fd < 0) {
        error_setg(errp, "could not open '%s': %s", o->path, strerror(errno));
        return NULL;
    }
    f = chr_alloc(sizeof(*f), &file_class, o->id, h);
    f->fd = fd;
    f->parent.desc = g_strdup_printf("file:%s", o->path);
    return &f->parent;
}
