/*
 * The two structures of the Arrow C Data Interface, declared for Swift (and any C code in
 * this package) from the Arrow specification, so that field order, sizes and padding are the
 * ones every other Arrow implementation uses.
 *
 * The guard macro is the one the specification's own declarations use, so that
 * a translation unit that also includes another project's copy sees one definition, not two.
 *
 * Nullability annotations do not change the layout; they let Swift see optional pointers
 * instead of implicitly unwrapped ones.
 */
#ifndef SWIFT_ARROW_FLIGHT_C_ABI_H
#define SWIFT_ARROW_FLIGHT_C_ABI_H

#include <stdint.h>

#if defined(__clang__)
#define SAF_NULLABLE _Nullable
#else
#define SAF_NULLABLE
#endif

#ifdef __cplusplus
extern "C" {
#endif

#ifndef ARROW_C_DATA_INTERFACE
#define ARROW_C_DATA_INTERFACE

/* Bits of ArrowSchema.flags. */
#define ARROW_FLAG_DICTIONARY_ORDERED 1
#define ARROW_FLAG_NULLABLE 2
#define ARROW_FLAG_MAP_KEYS_SORTED 4

struct ArrowSchema {
    const char *SAF_NULLABLE format;
    const char *SAF_NULLABLE name;
    const char *SAF_NULLABLE metadata;
    int64_t flags;
    int64_t n_children;
    struct ArrowSchema *SAF_NULLABLE *SAF_NULLABLE children;
    struct ArrowSchema *SAF_NULLABLE dictionary;
    void (*SAF_NULLABLE release)(struct ArrowSchema *SAF_NULLABLE);
    void *SAF_NULLABLE private_data;
};

struct ArrowArray {
    int64_t length;
    int64_t null_count;
    int64_t offset;
    int64_t n_buffers;
    int64_t n_children;
    const void *SAF_NULLABLE *SAF_NULLABLE buffers;
    struct ArrowArray *SAF_NULLABLE *SAF_NULLABLE children;
    struct ArrowArray *SAF_NULLABLE dictionary;
    void (*SAF_NULLABLE release)(struct ArrowArray *SAF_NULLABLE);
    void *SAF_NULLABLE private_data;
};

#endif /* ARROW_C_DATA_INTERFACE */

#ifdef __cplusplus
}
#endif

#endif /* SWIFT_ARROW_FLIGHT_C_ABI_H */
