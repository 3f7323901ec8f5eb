// SPDX-License-Identifier: GPL-2.0
/* The trace events of pinmdl.ko (module/trace/pinmdl_trace.h), defined. */
#define CREATE_TRACE_POINTS
#include "trace/pinmdl_trace.h"
