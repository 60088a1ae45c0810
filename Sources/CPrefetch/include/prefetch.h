// A software prefetch, which Swift has no spelling for.
#ifndef KRYLOV_PREFETCH_H
#define KRYLOV_PREFETCH_H

// Asks for the cache line holding `address` ahead of a read. The sparse product's reads of its
// input land anywhere in a vector larger than the cache; a prefetch retires without waiting for
// its line, so many more reads are in flight than the processor's own look-ahead keeps.
static inline void krylov_prefetch(const void *address) { __builtin_prefetch(address, 0, 3); }

#endif
