/*
 * formats/weights: the readers stream (a file of 256 MiB of tensor data is
 * read for its header only: the source's byte count says so, whatever the
 * machine's speed), and ModelPack's config takes paramSize and precision in
 * config.md's forms from the record's "weights".
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "bundle/oci.h"
#include "tap.h"
#include "weights/weights.h"

#define DATA_SIZE (256ull << 20)
/* The header and at most two 64 KiB windows: never the data. */
#define READ_BOUND (160u << 10)

static void put_le64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* Write @head, then make the file @total bytes long (sparse). */
static void write_sparse(const char *path, const void *head, size_t len, uint64_t total)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || write(fd, head, len) != (ssize_t)len || ftruncate(fd, (off_t)total) < 0) {
		printf("Bail out! cannot write %s\n", path);
		exit(1);
	}
	close(fd);
}

/* Check @path as @format from its file; the bytes it read go to *read. */
static size_t check(const char *path, const char *format, winfo *info, uint64_t *read)
{
	mreg_diag_list *diags = NULL;
	wdiag d = {0};
	struct stat st;
	wsrc src;
	size_t errors;
	int fd = open(path, O_RDONLY);

	mreg_diag_list_new(&diags);
	d.diags = diags;
	d.file = path;
	memset(info, 0, sizeof(*info));
	fstat(fd, &st);
	wsrc_init_fd(&src, fd, (uint64_t)st.st_size);
	if (!strcmp(format, "safetensors"))
		weights_check_safetensors(&src, &d, info);
	else if (!strcmp(format, "gguf"))
		weights_check_gguf(&src, &d, info);
	else
		weights_check_onnx(&src, &d, info, path, NULL, NULL);
	for (size_t i = 0; i < mreg_diag_count(diags); i++) {
		char *s = mreg_diag_format(mreg_diag_get(diags, i));
		printf("# %s\n", s);
		free(s);
	}
	*read = src.bytes_read;
	errors = d.errors;
	wsrc_dispose(&src);
	close(fd);
	mreg_diag_list_free(diags);
	return errors;
}

static void test_safetensors_streams(void)
{
	char json[256];
	unsigned char head[512];
	winfo info;
	uint64_t read;
	int n = snprintf(json, sizeof(json),
			 "{\"w\":{\"dtype\":\"BF16\",\"shape\":[%llu],\"data_offsets\":[0,%llu]}}",
			 DATA_SIZE / 2, DATA_SIZE);

	put_le64(head, (uint64_t)n);
	memcpy(head + 8, json, (size_t)n);
	write_sparse("big.safetensors", head, 8 + (size_t)n, 8 + (uint64_t)n + DATA_SIZE);
	tap_is_int(check("big.safetensors", "safetensors", &info, &read), 0,
		   "a 256 MiB safetensors file is valid");
	tap_ok(read <= READ_BOUND, "and only its header is read (%llu bytes)",
	       (unsigned long long)read);
	tap_ok(info.parameters == DATA_SIZE / 2 && info.tensors == 1,
	       "its parameters are counted from the header (%llu)",
	       (unsigned long long)info.parameters);
}

static size_t gstr(unsigned char *p, const char *s)
{
	put_le64(p, strlen(s));
	memcpy(p + 8, s, strlen(s));
	return 8 + strlen(s);
}

static void test_gguf_streams(void)
{
	unsigned char h[512];
	size_t at = 0;
	winfo info;
	uint64_t read;
	uint32_t v;

	memcpy(h, "GGUF", 4), at = 4;
	v = 3, memcpy(h + at, &v, 4), at += 4; /* the test machine is little-endian, as GGUF */
	put_le64(h + at, 1), at += 8;           /* one tensor */
	put_le64(h + at, 1), at += 8;           /* one key */
	at += gstr(h + at, "general.architecture");
	v = 8, memcpy(h + at, &v, 4), at += 4;
	at += gstr(h + at, "llama");
	at += gstr(h + at, "w");
	v = 1, memcpy(h + at, &v, 4), at += 4;  /* dims */
	put_le64(h + at, DATA_SIZE / 4), at += 8;
	v = 0, memcpy(h + at, &v, 4), at += 4;  /* F32 */
	put_le64(h + at, 0), at += 8;
	size_t data = (at + 31) / 32 * 32;
	memset(h + at, 0, data - at);
	write_sparse("big.gguf", h, data, data + DATA_SIZE);
	tap_is_int(check("big.gguf", "gguf", &info, &read), 0, "a 256 MiB GGUF file is valid");
	tap_ok(read <= READ_BOUND, "and only its header is read (%llu bytes)",
	       (unsigned long long)read);
	tap_ok(info.parameters == DATA_SIZE / 4 && !strcmp(info.architecture, "llama"),
	       "parameters and architecture from the header");
}

static size_t varint(unsigned char *p, uint64_t v)
{
	size_t n = 0;

	do {
		p[n++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
	return n;
}

/* An ONNX model whose one initializer's raw_data (256 MiB, inline) ends the file. */
static void test_onnx_streams(void)
{
	unsigned char t[64], g[64], m[128];
	size_t tn = 0, gn = 0, mn = 0;
	winfo info;
	uint64_t read;
	uint64_t raw = DATA_SIZE;

	t[tn++] = 0x08, tn += varint(t + tn, raw / 4);      /* dims */
	t[tn++] = 0x10, t[tn++] = 1;                       /* FLOAT */
	t[tn++] = 0x42, t[tn++] = 1, t[tn++] = 'w';        /* name */
	t[tn++] = 0x4a, tn += varint(t + tn, raw);         /* raw_data, bytes follow */
	uint64_t tlen = tn + raw;
	g[gn++] = 0x2a, gn += varint(g + gn, tlen);        /* initializer */
	uint64_t glen = gn + tlen;
	m[mn++] = 0x08, m[mn++] = 8;                       /* ir_version */
	m[mn++] = 0x42, m[mn++] = 2, m[mn++] = 0x10, m[mn++] = 17; /* opset_import */
	m[mn++] = 0x3a, mn += varint(m + mn, glen);        /* graph */
	memcpy(m + mn, g, gn), mn += gn;
	memcpy(m + mn, t, tn), mn += tn;
	write_sparse("big.onnx", m, mn, mn + raw);
	tap_is_int(check("big.onnx", "onnx", &info, &read), 0,
		   "an ONNX file with 256 MiB of inline weights is valid");
	tap_ok(read <= READ_BOUND, "and its weights are stepped over (%llu bytes read)",
	       (unsigned long long)read);
	tap_ok(info.parameters == raw / 4, "its initializer's elements are its parameters");
}

/* config.paramSize / precision for a record whose weights say @params. */
static void expect_config(json_int_t params, const char *size, const char *precision)
{
	mreg_record r = {0};
	oci_blob blob;
	json_t *doc, *conf;
	char meta[256];

	snprintf(meta, sizeof(meta),
		 "{\"weights\":{\"format\":\"safetensors\",\"parameters\":%lld,\"precision\":\"%s\"}}",
		 (long long)params, precision);
	r.name = "m";
	r.version = "1";
	r.format_json = meta;
	if (oci_config_build(&blob, &r, NULL)) {
		tap_ok(false, "oci_config_build for %lld parameters", (long long)params);
		return;
	}
	doc = json_loads(blob.data, 0, NULL);
	conf = json_object_get(doc, "config");
	const char *got = json_string_value(json_object_get(conf, "paramSize"));
	if (size)
		tap_is_str(got ? got : "(none)", size, "%lld parameters: paramSize %s",
			   (long long)params, size);
	else
		tap_ok(!got, "%lld parameters: no paramSize (got %s)", (long long)params,
		       got ? got : "none");
	tap_is_str(json_string_value(json_object_get(conf, "format")), "safetensors",
		   "format from the headers");
	tap_is_str(json_string_value(json_object_get(conf, "precision")), precision, "precision");
	json_decref(doc);
	oci_blob_dispose(&blob);
}

int main(void)
{
	tap_tmpdir();
	test_safetensors_streams();
	test_gguf_streams();
	test_onnx_streams();
	expect_config(0, NULL, "float32");
	expect_config(49, NULL, "float32");
	expect_config(50, "0.1K", "float32");
	expect_config(1500, "1.5K", "bfloat16,float32");
	expect_config(999960, "1M", "int8");
	expect_config(6738415616, "6.7B", "float16");
	expect_config(1000000000000, "1T", "q4_k,float32");
	expect_config(405000000000, "405B", "bfloat16");
	return tap_done();
}
