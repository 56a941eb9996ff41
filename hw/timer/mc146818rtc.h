/*
 * MC146818 real-time clock and CMOS RAM ("mc146818rtc").
 */
#ifndef KESTREL_HW_TIMER_MC146818RTC_H
#define KESTREL_HW_TIMER_MC146818RTC_H

#include <stdint.h>

#include "core/device.h"

extern const DeviceClass mc146818rtc_class;

/* The device created from mc146818rtc_class: (RtcState *)device. */
typedef struct RtcState RtcState;

#define RTC_ISA_IRQ 8

/* Memory size fields for the firmware and OS: base memory (640 KiB), memory
 * above 1 MiB in KiB (0x17/0x18, 0x30/0x31), above 16 MiB in 64 KiB units
 * (0x34/0x35), above 4 GiB in 64 KiB units (0x5b-0x5d), CPUs - 1 (0x5f).
 * CMOS RAM keeps them across resets, like a battery. */
void rtc_set_memory(RtcState *s, uint64_t below_4g, uint64_t above_4g,
                    unsigned nr_cpus);
/* Any other CMOS byte (index 0x0e..0x7f), e.g. boot order for SeaBIOS. */
void rtc_set_cmos(RtcState *s, uint8_t index, uint8_t value);
uint8_t rtc_get_cmos(RtcState *s, uint8_t index);

/* Period of the periodic interrupt for the rate in register A (0: off). */
int64_t rtc_periodic_period_ns(unsigned rate_select);

#endif
