/* The two cascaded 8259A PICs. */
#ifndef KTEST_PIC_H
#define KTEST_PIC_H

#include <stdint.h>

#define PIC_VECTOR_BASE 0x20 /* IRQ n arrives at vector 0x20 + n */

/* Initialise both PICs (ICW1-ICW4) with every line masked. */
void pic_init(void);
void pic_unmask(unsigned irq);
void pic_mask_all(void);
void pic_eoi(unsigned irq);

#endif
