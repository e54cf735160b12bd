// natt: hand-made number formatting. Table cells and endpoints are
// re-rendered on busy captures' every frame, where snprintf dominated.
#pragma once

#include <cstdint>

namespace natt {

// Writes v in decimal at p (no terminator); returns the end.
inline char* put_decimal(char* p, uint64_t v) {
    char tmp[20];
    int n = 0;
    do {
        tmp[n++] = static_cast<char>('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) *p++ = tmp[--n];
    return p;
}

// Writes the low `digits` hex digits of v at p; returns the end.
inline char* put_hex(char* p, uint64_t v, int digits) {
    static const char hex[] = "0123456789abcdef";
    for (int i = digits - 1; i >= 0; --i) *p++ = hex[(v >> (4 * i)) & 0xf];
    return p;
}

}  // namespace natt
