/*
 * A small AML (ACPI Machine Language) encoder for the DSDT: name strings,
 * integers, packages, buffers, Name/Scope/Device/Method, and resource
 * template descriptors.  Encodings follow ACPI 6.x chapter 20 (AML
 * grammar) and section 6.4 (resource data types).  Objects are built
 * bottom-up into GByteArrays: build the body, then wrap it.
 */
#ifndef KESTREL_HW_ACPI_AML_H
#define KESTREL_HW_ACPI_AML_H

#include <glib.h>
#include <stdint.h>

/* Terms (append to out). */
void aml_name_string(GByteArray *out, const char *path); /* "\\_SB.PCI0", "_HID" */
void aml_integer(GByteArray *out, uint64_t v);
void aml_string(GByteArray *out, const char *s);
void aml_eisaid(GByteArray *out, const char *id); /* "PNP0A03" as DWordConst */
void aml_package(GByteArray *out, unsigned nr_elements, const GByteArray *elements);
void aml_buffer(GByteArray *out, const GByteArray *bytes);

/* Named objects. */
void aml_name(GByteArray *out, const char *name, const GByteArray *value);
void aml_name_int(GByteArray *out, const char *name, uint64_t v);
void aml_scope(GByteArray *out, const char *path, const GByteArray *body);
void aml_device(GByteArray *out, const char *name, const GByteArray *body);
void aml_method(GByteArray *out, const char *name, unsigned nr_args,
                const GByteArray *body);

/* Resource template descriptors (append to a buffer's bytes; finish with
 * aml_res_end(), then wrap with aml_buffer()). */
void aml_res_io(GByteArray *res, uint16_t base, uint8_t len);
void aml_res_irq_noflags(GByteArray *res, unsigned irq);
void aml_res_ext_irq(GByteArray *res, uint32_t gsi, bool level, bool active_low,
                     bool shared);
void aml_res_mem32_fixed(GByteArray *res, uint32_t base, uint32_t len);
void aml_res_word_bus(GByteArray *res, uint16_t min, uint16_t max);
void aml_res_word_io(GByteArray *res, uint16_t min, uint16_t max);
void aml_res_dword_mem(GByteArray *res, uint32_t min, uint32_t max,
                       bool cacheable);
void aml_res_qword_mem(GByteArray *res, uint64_t min, uint64_t max,
                       bool cacheable);
void aml_res_end(GByteArray *res);

#endif
