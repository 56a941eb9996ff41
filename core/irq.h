/*
 * IRQ lines: a device drives a line to a level; whoever the machine wired it
 * to (PIC, IOAPIC, the in-kernel irqchip of KVM, a PCI INTx router) is told.
 * A line with no handler is simply unconnected.
 */
#ifndef KESTREL_CORE_IRQ_H
#define KESTREL_CORE_IRQ_H

typedef void (*IrqHandler)(void *opaque, int n, int level);

typedef struct IrqLine {
    IrqHandler handler;
    void *opaque;
    int n; /* which input of the receiver this line is */
} IrqLine;

static inline void irq_connect(IrqLine *line, IrqHandler handler, void *opaque,
                               int n)
{
    line->handler = handler;
    line->opaque = opaque;
    line->n = n;
}

static inline void irq_set(const IrqLine *line, int level)
{
    if (line && line->handler) {
        line->handler(line->opaque, line->n, level);
    }
}

static inline void irq_raise(const IrqLine *line) { irq_set(line, 1); }
static inline void irq_lower(const IrqLine *line) { irq_set(line, 0); }

/* An edge for edge-triggered inputs. */
static inline void irq_pulse(const IrqLine *line)
{
    irq_set(line, 1);
    irq_set(line, 0);
}

#endif
