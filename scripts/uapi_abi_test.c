// SPDX-License-Identifier: GPL-2.0
/*
 * The uapi ABI, frozen: every struct's size and every field's offset. A
 * change to uapi/linux/pinmdl.h that moves anything fails to compile.
 */
#include <stddef.h>
#include <linux/pinmdl.h>

#define ABI(type, size) \
	_Static_assert(sizeof(struct type) == (size), #type " size")
#define AT(type, field, off) \
	_Static_assert(offsetof(struct type, field) == (off), \
		       #type "." #field " offset")

ABI(pinmdl_create, 24);
AT(pinmdl_create, addr, 0);
AT(pinmdl_create, length, 8);
AT(pinmdl_create, flags, 16);
AT(pinmdl_create, handle, 20);

ABI(pinmdl_lock, 16);
AT(pinmdl_lock, handle, 0);
AT(pinmdl_lock, access_mode, 4);
AT(pinmdl_lock, operation, 8);
AT(pinmdl_lock, flags, 12);

ABI(pinmdl_handle_arg, 8);
AT(pinmdl_handle_arg, handle, 0);
AT(pinmdl_handle_arg, flags, 4);

ABI(pinmdl_query, 64);
AT(pinmdl_query, handle, 0);
AT(pinmdl_query, flags, 4);
AT(pinmdl_query, start_va, 8);
AT(pinmdl_query, byte_count, 16);
AT(pinmdl_query, byte_offset, 24);
AT(pinmdl_query, operation, 28);
AT(pinmdl_query, page_count, 32);
AT(pinmdl_query, pfns, 40);
AT(pinmdl_query, pfn_capacity, 48);
AT(pinmdl_query, parent, 56);
AT(pinmdl_query, reserved, 60);

ABI(pinmdl_partial, 24);
AT(pinmdl_partial, parent, 0);
AT(pinmdl_partial, handle, 4);
AT(pinmdl_partial, addr, 8);
AT(pinmdl_partial, length, 16);

ABI(pinmdl_submit, 56);
AT(pinmdl_submit, handle, 0);
AT(pinmdl_submit, op, 4);
AT(pinmdl_submit, offset, 8);
AT(pinmdl_submit, length, 16);
AT(pinmdl_submit, arg, 24);
AT(pinmdl_submit, flags, 32);
AT(pinmdl_submit, reserved, 36);
AT(pinmdl_submit, request_id, 40);
AT(pinmdl_submit, result, 48);

ABI(pinmdl_completion, 24);
AT(pinmdl_completion, request_id, 0);
AT(pinmdl_completion, status, 8);
AT(pinmdl_completion, reserved, 12);
AT(pinmdl_completion, result, 16);

ABI(pinmdl_submit_buffered, 40);
AT(pinmdl_submit_buffered, addr, 0);
AT(pinmdl_submit_buffered, length, 8);
AT(pinmdl_submit_buffered, op, 16);
AT(pinmdl_submit_buffered, flags, 20);
AT(pinmdl_submit_buffered, arg, 24);
AT(pinmdl_submit_buffered, result, 32);

ABI(pinmdl_target_open, 40);
AT(pinmdl_target_open, name, 0);
AT(pinmdl_target_open, fd, 8);
AT(pinmdl_target_open, flags, 12);
AT(pinmdl_target_open, target, 16);
AT(pinmdl_target_open, block_size, 20);
AT(pinmdl_target_open, capacity, 24);
AT(pinmdl_target_open, max_segments, 32);
AT(pinmdl_target_open, reserved, 36);

ABI(pinmdl_segment, 24);
AT(pinmdl_segment, handle, 0);
AT(pinmdl_segment, reserved, 4);
AT(pinmdl_segment, offset, 8);
AT(pinmdl_segment, length, 16);

ABI(pinmdl_io, 56);
AT(pinmdl_io, target, 0);
AT(pinmdl_io, op, 4);
AT(pinmdl_io, dev_offset, 8);
AT(pinmdl_io, segments, 16);
AT(pinmdl_io, nr_segments, 24);
AT(pinmdl_io, flags, 28);
AT(pinmdl_io, arg, 32);
AT(pinmdl_io, request_id, 40);
AT(pinmdl_io, result, 48);

ABI(pinmdl_cancel, 16);
AT(pinmdl_cancel, request_id, 0);
AT(pinmdl_cancel, flags, 8);
AT(pinmdl_cancel, reserved, 12);

ABI(pinmdl_range, 16);
AT(pinmdl_range, addr, 0);
AT(pinmdl_range, length, 8);

ABI(pinmdl_create_pages, 24);
AT(pinmdl_create_pages, ranges, 0);
AT(pinmdl_create_pages, nr_ranges, 8);
AT(pinmdl_create_pages, flags, 12);
AT(pinmdl_create_pages, handle, 16);
AT(pinmdl_create_pages, reserved, 20);

ABI(pinmdl_map, 16);
AT(pinmdl_map, handle, 0);
AT(pinmdl_map, flags, 4);
AT(pinmdl_map, offset, 8);

ABI(pinmdl_alloc_pages, 40);
AT(pinmdl_alloc_pages, length, 0);
AT(pinmdl_alloc_pages, highest_phys, 8);
AT(pinmdl_alloc_pages, node, 16);
AT(pinmdl_alloc_pages, flags, 20);
AT(pinmdl_alloc_pages, handle, 24);
AT(pinmdl_alloc_pages, reserved, 28);
AT(pinmdl_alloc_pages, allocated, 32);

ABI(pinmdl_advance, 16);
AT(pinmdl_advance, handle, 0);
AT(pinmdl_advance, flags, 4);
AT(pinmdl_advance, bytes, 8);

ABI(pinmdl_export, 16);
AT(pinmdl_export, handle, 0);
AT(pinmdl_export, flags, 4);
AT(pinmdl_export, fd, 8);
AT(pinmdl_export, reserved, 12);

_Static_assert(PINMDL_IOC_CREATE == 0xc018bd01, "CREATE number");
_Static_assert(PINMDL_IOC_LOCK == 0x4010bd02, "LOCK number");
_Static_assert(PINMDL_IOC_UNLOCK == 0x4008bd03, "UNLOCK number");
_Static_assert(PINMDL_IOC_FREE == 0x4008bd04, "FREE number");
_Static_assert(PINMDL_IOC_QUERY == 0xc040bd05, "QUERY number");
_Static_assert(PINMDL_IOC_PARTIAL == 0xc018bd06, "PARTIAL number");
_Static_assert(PINMDL_IOC_SUBMIT == 0xc038bd07, "SUBMIT number");
_Static_assert(PINMDL_IOC_SUBMIT_BUFFERED == 0xc028bd08, "BUFFERED number");
_Static_assert(PINMDL_IOC_TARGET_OPEN == 0xc028bd09, "TARGET_OPEN number");
_Static_assert(PINMDL_IOC_TARGET_CLOSE == 0x4008bd0a, "TARGET_CLOSE number");
_Static_assert(PINMDL_IOC_IO == 0xc038bd0b, "IO number");
_Static_assert(PINMDL_IOC_CANCEL == 0x4010bd0c, "CANCEL number");
_Static_assert(PINMDL_IOC_EXPORT_DMABUF == 0xc010bd0d, "EXPORT_DMABUF number");
_Static_assert(PINMDL_IOC_CREATE_PAGES == 0xc018bd0f, "CREATE_PAGES number");
_Static_assert(PINMDL_IOC_MAP_OFFSET == 0xc010bd10, "MAP_OFFSET number");
_Static_assert(PINMDL_IOC_ALLOC_PAGES == 0xc028bd11, "ALLOC_PAGES number");
_Static_assert(PINMDL_IOC_ADVANCE == 0x4010bd12, "ADVANCE number");
_Static_assert(PINMDL_IOC_PARTIAL_REUSE == 0x4018bd13, "PARTIAL_REUSE number");
_Static_assert(PINMDL_F_PAGE_LIST == 0x80 && PINMDL_MAX_RANGES == 1024 &&
	       PINMDL_F_ALLOCATED == 0x100 && PINMDL_F_USER_MAPPED == 0x200 &&
	       PINMDL_ALLOC_CONTIGUOUS == 1 && PINMDL_ALLOC_FULLY_REQUIRED == 2 &&
	       PINMDL_MAP_WRITE_COMBINED == 1,
	       "descriptor flags");
_Static_assert(PINMDL_F_EXPORTED == 0x400 && PINMDL_EXPORT_CLOEXEC == 1 &&
	       PINMDL_EXPORT_WRITE == 2, "export flags");
_Static_assert(PINMDL_LOWER_DELAY == 4 && PINMDL_LOWER_DELAY_MAX == 60000,
	       "DELAY");
_Static_assert(PINMDL_LOWER_DMABUF_CHECKSUM == 5 &&
	       PINMDL_LOWER_DMABUF_FILL == 6, "dma-buf ops");
_Static_assert(PINMDL_TARGET_NAME_MAX == 32, "name length");
_Static_assert(PINMDL_SUBMIT_ASYNC == 1 && PINMDL_CANCEL_USER_DATA == 1,
	       "request flags");

int main(void)
{
	return 0;
}
