/*
 * syscall-counter.c: interposes the write-like libc calls in the test
 * executable (an executable's definitions take precedence over libc's
 * for every object linked into it, the block library included) and
 * forwards them to the kernel.  The 64-bit offset names are defined too,
 * since headers may redirect to them.
 */
#undef _FILE_OFFSET_BITS
#include "tests/functional/img/syscall-counter.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

static long budget = -1;
static long count;

void syscall_counter_arm(long b)
{
    count = 0;
    budget = b;
}

long syscall_counter_value(void)
{
    return count;
}

static void tick(void)
{
    count++;
    if (budget >= 0 && count >= budget) {
        raise(SIGKILL);
    }
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    tick();
    return syscall(SYS_pwrite64, fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
    tick();
    return syscall(SYS_pwrite64, fd, buf, n, off);
}

ssize_t pwritev(int fd, const struct iovec *iov, int n, off_t off)
{
    tick();
    return syscall(SYS_pwritev, fd, iov, n, (long)off, 0L);
}

ssize_t pwritev64(int fd, const struct iovec *iov, int n, off64_t off)
{
    tick();
    return syscall(SYS_pwritev, fd, iov, n, (long)off, 0L);
}

int fdatasync(int fd)
{
    tick();
    return (int)syscall(SYS_fdatasync, fd);
}

int fsync(int fd)
{
    tick();
    return (int)syscall(SYS_fsync, fd);
}

int ftruncate(int fd, off_t len)
{
    tick();
    return (int)syscall(SYS_ftruncate, fd, len);
}

int ftruncate64(int fd, off64_t len)
{
    tick();
    return (int)syscall(SYS_ftruncate, fd, len);
}

int fallocate(int fd, int mode, off_t off, off_t len)
{
    tick();
    return (int)syscall(SYS_fallocate, fd, mode, off, len);
}

int fallocate64(int fd, int mode, off64_t off, off64_t len)
{
    tick();
    return (int)syscall(SYS_fallocate, fd, mode, off, len);
}
