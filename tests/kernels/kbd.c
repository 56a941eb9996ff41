/*
 * kbd: reads the PS/2 keyboard through the i8042 (polling the status port
 * 0x64 and the data port 0x60; IBM PS/2 keyboard controller reference) and
 * prints the bytes it gets, in three phases: translation on (the i8042
 * hands the host set 1), translation off (the keyboard's own set 2), and
 * the keyboard switched to set 1 (command 0xf0 0x01).  A phase ends when
 * Esc is released (0x81 in set 1, 0xf0 0x76 in set 2) and prints
 * "kbd: phase N: <bytes>"; the test that types the keys checks them.
 */
#include "lib/kernel.h"
#include "lib/tsc.h"

#define DATA 0x60
#define STATUS 0x64
#define STS_OBF 0x01
#define STS_IBF 0x02
#define CTR_TRANSLATE 0x40
#define MAX_BYTES 64

static void wait_input_empty(void)
{
    while (inb(STATUS) & STS_IBF) {
        cpu_relax();
    }
}

static int read_byte(uint32_t ms)
{
    uint64_t end = tsc_deadline(ms);
    while (!(inb(STATUS) & STS_OBF)) {
        if (tsc_passed(end)) {
            return -1;
        }
        cpu_relax();
    }
    return inb(DATA);
}

static void controller_command(uint8_t cmd)
{
    wait_input_empty();
    outb(STATUS, cmd);
}

static void keyboard_write(uint8_t b)
{
    wait_input_empty();
    outb(DATA, b);
}

/* Collect bytes until Esc is released; print them. */
static int phase(unsigned n, int set2)
{
    uint8_t bytes[MAX_BYTES];
    unsigned count = 0;

    kprintf("kbd: phase %u ready\n", n);
    for (;;) {
        int b = read_byte(120000);
        if (b < 0 || count == MAX_BYTES) {
            kprintf("kbd: phase %u: %s after %u bytes\n", n,
                    b < 0 ? "no Esc release" : "too many bytes", count);
            return 0;
        }
        bytes[count++] = (uint8_t)b;
        int esc_up = set2 ? count >= 2 && bytes[count - 2] == 0xf0 && b == 0x76
                          : b == 0x81;
        if (esc_up) {
            break;
        }
    }
    kprintf("kbd: phase %u:", n);
    for (unsigned i = 0; i < count; i++) {
        kprintf(" %02x", bytes[i]);
    }
    kprintf("\n");
    return 1;
}

void kmain(const struct mb_info *info)
{
    tsc_calibrate();
    /* Anything left from the boot (none expected) goes. */
    while (read_byte(10) >= 0) {
    }
    int ok = phase(1, 0);

    controller_command(0x20);
    int ctr = read_byte(1000);
    controller_command(0x60);
    keyboard_write((uint8_t)(ctr & ~CTR_TRANSLATE));
    ok = ok && ctr >= 0 && (ctr & CTR_TRANSLATE) && phase(2, 1);

    keyboard_write(0xf0);
    int ack1 = read_byte(1000);
    keyboard_write(0x01);
    int ack2 = read_byte(1000);
    ok = ok && ack1 == 0xfa && ack2 == 0xfa && phase(3, 0);
    test_finish("kbd", ok);
}
