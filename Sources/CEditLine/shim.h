#ifndef SWIFT_ARROW_FLIGHT_CEDITLINE_SHIM_H
#define SWIFT_ARROW_FLIGHT_CEDITLINE_SHIM_H
/* libedit's readline-compatible interface; GNU readline is GPL, libedit is BSD-licensed. */
#include <editline/readline.h>
#endif
