/*
 * 8254 PIT channel 0 (Intel 8254 datasheet: control word at 0x43, counter
 * latch command, LSB/MSB access, modes 0 and 2).
 */
#include "lib/io.h"
#include "lib/pit.h"

#define PIT_CH0 0x40
#define PIT_CMD 0x43

void pit_start_periodic(uint16_t divisor)
{
    outb(PIT_CMD, 0x34); /* channel 0, LSB then MSB, mode 2, binary */
    outb(PIT_CH0, (uint8_t)divisor);
    outb(PIT_CH0, (uint8_t)(divisor >> 8));
}

void pit_stop(void)
{
    outb(PIT_CMD, 0x30); /* channel 0, LSB then MSB, mode 0 */
    outb(PIT_CH0, 0);
    outb(PIT_CH0, 0);
}

uint16_t pit_read_counter(void)
{
    outb(PIT_CMD, 0x00); /* latch channel 0 */
    uint8_t lo = inb(PIT_CH0);
    uint8_t hi = inb(PIT_CH0);
    return (uint16_t)(lo | (hi << 8));
}
