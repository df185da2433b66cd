/*
 * SwiftPM builds a C target only if it has a source file. This one earns its place by checking,
 * at compile time, that the declarations have the layout the specification gives on the
 * 64-bit platforms we build for: nine and ten pointer-sized members, no padding.
 */
#include "arrow_c_abi.h"

#include <stddef.h>

_Static_assert(sizeof(void *) != 8 || sizeof(struct ArrowSchema) == 72, "ArrowSchema layout");
_Static_assert(sizeof(void *) != 8 || sizeof(struct ArrowArray) == 80, "ArrowArray layout");
_Static_assert(offsetof(struct ArrowSchema, flags) == 3 * sizeof(void *), "ArrowSchema.flags offset");
_Static_assert(offsetof(struct ArrowArray, buffers) == 40, "ArrowArray.buffers offset");
