/*
 * COM1 output: a polled 16550 UART at I/O port 0x3f8, 115200 baud, 8N1
 * (PC16550D datasheet: THR, LCR, DLL/DLM, LSR bit 5 = THR empty).
 */
#include "lib/serial.h"
#include "lib/io.h"

#define COM1 0x3f8
#define UART_THR 0
#define UART_DLL 0
#define UART_IER 1
#define UART_DLM 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LSR_THRE 0x20
#define LCR_DLAB 0x80

void serial_init(void)
{
    outb(COM1 + UART_IER, 0x00);
    outb(COM1 + UART_LCR, LCR_DLAB);
    outb(COM1 + UART_DLL, 1);
    outb(COM1 + UART_DLM, 0);
    outb(COM1 + UART_LCR, 0x03); /* 8 data bits, no parity, 1 stop bit */
    outb(COM1 + UART_FCR, 0x07); /* FIFO on, both cleared */
    outb(COM1 + UART_MCR, 0x03); /* DTR, RTS */
}

void serial_putc(char c)
{
    if (c == '\n') {
        serial_putc('\r');
    }
    /* A UART that never drains must not hang the kernel: give up after a
     * bounded number of polls and write anyway. */
    for (unsigned i = 0; i < 100000; i++) {
        if (inb(COM1 + UART_LSR) & LSR_THRE) {
            break;
        }
    }
    outb(COM1 + UART_THR, (unsigned char)c);
}
