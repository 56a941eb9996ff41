/*
 * Helpers for IDENTIFY (PACKET) DEVICE data (ATA/ATAPI-6 8.15/8.16): ASCII
 * strings stored two characters per word, first character in the high
 * byte, padded with spaces; the integrity word 255 (signature A5h in the
 * low byte, a checksum that makes the 512 bytes sum to zero in the high
 * byte); and the copy of the 256 words into the PIO buffer, little-endian.
 */
#include <string.h>

#include "hw/ide/ide-internal.h"

void ide_id_string(uint16_t *id, unsigned word, unsigned nwords,
                   const char *s)
{
    size_t len = strlen(s);

    for (unsigned i = 0; i < nwords * 2; i++) {
        uint8_t c = i < len ? (uint8_t)s[i] : ' ';

        if (i % 2 == 0) {
            id[word + i / 2] = (uint16_t)(c << 8);
        } else {
            id[word + i / 2] |= c;
        }
    }
}

void ide_id_checksum(uint16_t *id)
{
    uint8_t sum = 0xa5;

    for (unsigned i = 0; i < 255; i++) {
        sum = (uint8_t)(sum + (id[i] & 0xff) + (id[i] >> 8));
    }
    id[255] = (uint16_t)(((uint8_t)-sum << 8) | 0xa5);
}

void ide_id_to_buf(IDEDrive *d, const uint16_t *id)
{
    for (unsigned i = 0; i < 256; i++) {
        d->buf[2 * i] = (uint8_t)id[i];
        d->buf[2 * i + 1] = (uint8_t)(id[i] >> 8);
    }
}
