/* libarchive's functions that mreg calls, resolved on first use. */
#include <pthread.h>

#include "config.h"
#include "dl_archive.h"
#include "dl_library.h"

__typeof__(archive_entry_clear) *sym_archive_entry_clear;
__typeof__(archive_entry_filetype) *sym_archive_entry_filetype;
__typeof__(archive_entry_free) *sym_archive_entry_free;
__typeof__(archive_entry_hardlink) *sym_archive_entry_hardlink;
__typeof__(archive_entry_new) *sym_archive_entry_new;
__typeof__(archive_entry_pathname) *sym_archive_entry_pathname;
__typeof__(archive_entry_perm) *sym_archive_entry_perm;
__typeof__(archive_entry_set_filetype) *sym_archive_entry_set_filetype;
__typeof__(archive_entry_set_gid) *sym_archive_entry_set_gid;
__typeof__(archive_entry_set_mtime) *sym_archive_entry_set_mtime;
__typeof__(archive_entry_set_pathname) *sym_archive_entry_set_pathname;
__typeof__(archive_entry_set_perm) *sym_archive_entry_set_perm;
__typeof__(archive_entry_set_size) *sym_archive_entry_set_size;
__typeof__(archive_entry_set_symlink) *sym_archive_entry_set_symlink;
__typeof__(archive_entry_set_uid) *sym_archive_entry_set_uid;
__typeof__(archive_entry_size) *sym_archive_entry_size;
__typeof__(archive_entry_size_is_set) *sym_archive_entry_size_is_set;
__typeof__(archive_entry_symlink) *sym_archive_entry_symlink;
__typeof__(archive_errno) *sym_archive_errno;
__typeof__(archive_error_string) *sym_archive_error_string;
__typeof__(archive_filter_code) *sym_archive_filter_code;
__typeof__(archive_filter_count) *sym_archive_filter_count;
__typeof__(archive_filter_name) *sym_archive_filter_name;
__typeof__(archive_read_data) *sym_archive_read_data;
__typeof__(archive_read_free) *sym_archive_read_free;
__typeof__(archive_read_new) *sym_archive_read_new;
__typeof__(archive_read_next_header) *sym_archive_read_next_header;
__typeof__(archive_read_open) *sym_archive_read_open;
__typeof__(archive_read_support_filter_gzip) *sym_archive_read_support_filter_gzip;
__typeof__(archive_read_support_filter_zstd) *sym_archive_read_support_filter_zstd;
__typeof__(archive_read_support_format_tar) *sym_archive_read_support_format_tar;
__typeof__(archive_set_error) *sym_archive_set_error;
__typeof__(archive_write_add_filter_gzip) *sym_archive_write_add_filter_gzip;
__typeof__(archive_write_add_filter_zstd) *sym_archive_write_add_filter_zstd;
__typeof__(archive_write_close) *sym_archive_write_close;
__typeof__(archive_write_data) *sym_archive_write_data;
__typeof__(archive_write_free) *sym_archive_write_free;
__typeof__(archive_write_header) *sym_archive_write_header;
__typeof__(archive_write_new) *sym_archive_write_new;
__typeof__(archive_write_open) *sym_archive_write_open;
__typeof__(archive_write_set_bytes_in_last_block) *sym_archive_write_set_bytes_in_last_block;
__typeof__(archive_write_set_bytes_per_block) *sym_archive_write_set_bytes_per_block;
__typeof__(archive_write_set_filter_option) *sym_archive_write_set_filter_option;
__typeof__(archive_write_set_format_pax_restricted) *sym_archive_write_set_format_pax_restricted;

static const dl_symbol symbols[] = {
	DL_SYMBOL(archive_entry_clear),
	DL_SYMBOL(archive_entry_filetype),
	DL_SYMBOL(archive_entry_free),
	DL_SYMBOL(archive_entry_hardlink),
	DL_SYMBOL(archive_entry_new),
	DL_SYMBOL(archive_entry_pathname),
	DL_SYMBOL(archive_entry_perm),
	DL_SYMBOL(archive_entry_set_filetype),
	DL_SYMBOL(archive_entry_set_gid),
	DL_SYMBOL(archive_entry_set_mtime),
	DL_SYMBOL(archive_entry_set_pathname),
	DL_SYMBOL(archive_entry_set_perm),
	DL_SYMBOL(archive_entry_set_size),
	DL_SYMBOL(archive_entry_set_symlink),
	DL_SYMBOL(archive_entry_set_uid),
	DL_SYMBOL(archive_entry_size),
	DL_SYMBOL(archive_entry_size_is_set),
	DL_SYMBOL(archive_entry_symlink),
	DL_SYMBOL(archive_errno),
	DL_SYMBOL(archive_error_string),
	DL_SYMBOL(archive_filter_code),
	DL_SYMBOL(archive_filter_count),
	DL_SYMBOL(archive_filter_name),
	DL_SYMBOL(archive_read_data),
	DL_SYMBOL(archive_read_free),
	DL_SYMBOL(archive_read_new),
	DL_SYMBOL(archive_read_next_header),
	DL_SYMBOL(archive_read_open),
	DL_SYMBOL(archive_read_support_filter_gzip),
	DL_SYMBOL(archive_read_support_filter_zstd),
	DL_SYMBOL(archive_read_support_format_tar),
	DL_SYMBOL(archive_set_error),
	DL_SYMBOL(archive_write_add_filter_gzip),
	DL_SYMBOL(archive_write_add_filter_zstd),
	DL_SYMBOL(archive_write_close),
	DL_SYMBOL(archive_write_data),
	DL_SYMBOL(archive_write_free),
	DL_SYMBOL(archive_write_header),
	DL_SYMBOL(archive_write_new),
	DL_SYMBOL(archive_write_open),
	DL_SYMBOL(archive_write_set_bytes_in_last_block),
	DL_SYMBOL(archive_write_set_bytes_per_block),
	DL_SYMBOL(archive_write_set_filter_option),
	DL_SYMBOL(archive_write_set_format_pax_restricted),
};

static dl_library lib = {.label = "libarchive", .soname = MREG_LIBARCHIVE_SONAME};
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
	dl_library_open(&lib, symbols, sizeof(symbols) / sizeof(symbols[0]));
}

int dl_archive_need(const char *purpose)
{
	pthread_once(&once, load);
	return dl_library_check(&lib, purpose);
}
