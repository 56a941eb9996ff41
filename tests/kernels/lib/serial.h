/* COM1 output (16550 UART at 0x3f8) for the test kernels. */
#ifndef KTEST_SERIAL_H
#define KTEST_SERIAL_H

void serial_init(void);
void serial_putc(char c);

#endif
