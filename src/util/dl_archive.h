/*
 * libarchive, loaded when first needed (see dl_library.h): call dl_archive_need()
 * before any sym_* pointer; each is typed from libarchive's own headers.
 */
#ifndef MREG_DL_ARCHIVE_H
#define MREG_DL_ARCHIVE_H

#include <archive.h>
#include <archive_entry.h>

extern __typeof__(archive_entry_clear) *sym_archive_entry_clear;
extern __typeof__(archive_entry_filetype) *sym_archive_entry_filetype;
extern __typeof__(archive_entry_free) *sym_archive_entry_free;
extern __typeof__(archive_entry_hardlink) *sym_archive_entry_hardlink;
extern __typeof__(archive_entry_new) *sym_archive_entry_new;
extern __typeof__(archive_entry_pathname) *sym_archive_entry_pathname;
extern __typeof__(archive_entry_perm) *sym_archive_entry_perm;
extern __typeof__(archive_entry_set_filetype) *sym_archive_entry_set_filetype;
extern __typeof__(archive_entry_set_gid) *sym_archive_entry_set_gid;
extern __typeof__(archive_entry_set_mtime) *sym_archive_entry_set_mtime;
extern __typeof__(archive_entry_set_pathname) *sym_archive_entry_set_pathname;
extern __typeof__(archive_entry_set_perm) *sym_archive_entry_set_perm;
extern __typeof__(archive_entry_set_size) *sym_archive_entry_set_size;
extern __typeof__(archive_entry_set_symlink) *sym_archive_entry_set_symlink;
extern __typeof__(archive_entry_set_uid) *sym_archive_entry_set_uid;
extern __typeof__(archive_entry_size) *sym_archive_entry_size;
extern __typeof__(archive_entry_size_is_set) *sym_archive_entry_size_is_set;
extern __typeof__(archive_entry_symlink) *sym_archive_entry_symlink;
extern __typeof__(archive_errno) *sym_archive_errno;
extern __typeof__(archive_error_string) *sym_archive_error_string;
extern __typeof__(archive_filter_code) *sym_archive_filter_code;
extern __typeof__(archive_filter_count) *sym_archive_filter_count;
extern __typeof__(archive_filter_name) *sym_archive_filter_name;
extern __typeof__(archive_read_data) *sym_archive_read_data;
extern __typeof__(archive_read_free) *sym_archive_read_free;
extern __typeof__(archive_read_new) *sym_archive_read_new;
extern __typeof__(archive_read_next_header) *sym_archive_read_next_header;
extern __typeof__(archive_read_open) *sym_archive_read_open;
extern __typeof__(archive_read_support_filter_gzip) *sym_archive_read_support_filter_gzip;
extern __typeof__(archive_read_support_filter_zstd) *sym_archive_read_support_filter_zstd;
extern __typeof__(archive_read_support_format_tar) *sym_archive_read_support_format_tar;
extern __typeof__(archive_set_error) *sym_archive_set_error;
extern __typeof__(archive_write_add_filter_gzip) *sym_archive_write_add_filter_gzip;
extern __typeof__(archive_write_add_filter_zstd) *sym_archive_write_add_filter_zstd;
extern __typeof__(archive_write_close) *sym_archive_write_close;
extern __typeof__(archive_write_data) *sym_archive_write_data;
extern __typeof__(archive_write_free) *sym_archive_write_free;
extern __typeof__(archive_write_header) *sym_archive_write_header;
extern __typeof__(archive_write_new) *sym_archive_write_new;
extern __typeof__(archive_write_open) *sym_archive_write_open;
extern __typeof__(archive_write_set_bytes_in_last_block) *sym_archive_write_set_bytes_in_last_block;
extern __typeof__(archive_write_set_bytes_per_block) *sym_archive_write_set_bytes_per_block;
extern __typeof__(archive_write_set_filter_option) *sym_archive_write_set_filter_option;
extern __typeof__(archive_write_set_format_pax_restricted) *sym_archive_write_set_format_pax_restricted;

/*
 * Load libarchive once (thread-safe). 0, or MREG_EIO with a message
 * that names @purpose ("reading a bundle (mreg import)"), the library and its
 * soname, and why it could not be loaded.
 */
int dl_archive_need(const char *purpose);

#endif
