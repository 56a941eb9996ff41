/*
 * Private state of the TCG accelerator: per machine (code-page bitmap, the
 * list of vCPUs for cross-vCPU invalidation) and per vCPU (X86Cpu context,
 * translation-block cache, queued invalidations from other vCPUs).
 */
#ifndef KESTREL_ACCEL_TCG_TCG_H
#define KESTREL_ACCEL_TCG_TCG_H

#include "accel/accel.h"
#include "accel/tcg/tb.h"

#define TCG_CODE_PAGES_LIMIT (1ull << 24) /* 64 GiB of physical address space */
#define TCG_MAX_VCPUS 64
#define TCG_INVAL_QUEUE 64
#define TCG_STATS_BLOCKS (1u << 22)

typedef struct TcgVCpu TcgVCpu;

typedef struct TcgMachine {
    uint8_t *code_bitmap;
    GMutex vcpus_lock;
    TcgVCpu *vcpus[TCG_MAX_VCPUS];
    unsigned nr_vcpus;
} TcgMachine;

struct TcgVCpu {
    VCpu *vcpu;
    TcgMachine *m;
    X86Cpu cpu;
    TBCache tbs;
    const TB *cur_tb;
    /* invalidations queued by other vCPUs (under inval_lock) */
    GMutex inval_lock;
    uint64_t inval[TCG_INVAL_QUEUE];
    unsigned nr_inval;
    bool inval_overflow;
    uint32_t inval_pending; /* atomic: something is queued */
    /* KESTREL_TCG_TRACE=1: print each block's CS:RIP and exceptions to
     * stderr (a debugging aid; slow) */
    bool trace;
    /* statistics: blocks and (approximate) instructions executed */
    uint64_t blocks, insns;
    uint64_t stats_next; /* print when blocks reaches this */
    bool stats;         /* KESTREL_TCG_STATS=1: print them every 4M blocks */
    int64_t start_us;
};

VCpuExit tcg_exec(TcgVCpu *t);
void tcg_code_written(void *opaque, uint64_t page);
void tcg_mark_code(void *opaque, uint64_t page);

#endif
