/*
 * mreg's side of the pbtxt oracle test: reads each file named in LISTFILE
 * (one path a line) as the triton plugin reads config.pbtxt (pbtxt_parse,
 * then ts_check on what parsed) and prints "accept" or the first error in
 * the file, "LINE:COLUMN: MESSAGE", in the form pbtxt_oracle prints
 * protobuf's. mreg reports every schema error; protobuf stops at its first,
 * so the first in document order is the one to compare.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mreg/error.h"
#include "triton/pbtxt.h"
#include "triton/triton_schema.h"

/* protobuf stops at its first error, in the order it finds them: by the
 * token it is at, and at one token, first what the tokenizer finds while
 * reading it, then what the parser says of the field before it (an unknown
 * name, reported at the token after the name), then what it says of the
 * token itself. rank orders those three. */
typedef struct {
	bool has;
	unsigned int at_line, at_column, rank;
	unsigned int line, column;
	char message[512];
} first_error;

static void note(first_error *f, unsigned int at_line, unsigned int at_column, unsigned int rank,
                 unsigned int line, unsigned int column, const char *msg)
{
	if (f->has && (f->at_line < at_line ||
	               (f->at_line == at_line &&
	                (f->at_column < at_column ||
	                 (f->at_column == at_column && f->rank <= rank)))))
		return;
	f->has = true;
	f->at_line = at_line;
	f->at_column = at_column;
	f->rank = rank;
	f->line = line;
	f->column = column;
	snprintf(f->message, sizeof(f->message), "%s", msg);
}

static void schema_error(void *ctx, unsigned int line, unsigned int column, const char *msg)
{
	note(ctx, line, column, 1, line, column, msg);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n;

	*len = 0;
	if (!f)
		return NULL;
	for (;;) {
		if (*len + 4096 > cap) {
			char *nb = realloc(buf, cap = cap * 2 + 8192);
			if (!nb)
				break;
			buf = nb;
		}
		n = fread(buf + *len, 1, 4096, f);
		*len += n;
		if (!n) {
			fclose(f);
			return buf;
		}
	}
	free(buf);
	fclose(f);
	return NULL;
}

int main(int argc, char **argv)
{
	char path[4096];
	FILE *list;

	if (argc != 2) {
		fprintf(stderr, "usage: pbtxt_verdict LISTFILE\n");
		return 2;
	}
	list = fopen(argv[1], "r");
	if (!list) {
		perror(argv[1]);
		return 2;
	}
	while (fgets(path, sizeof(path), list)) {
		size_t len;
		char *text;
		pbtxt_msg *tree = NULL;
		pbtxt_error err;
		first_error first = {0};

		path[strcspn(path, "\n")] = '\0';
		text = slurp(path, &len);
		if (!text) {
			fprintf(stderr, "cannot read %s\n", path);
			return 2;
		}
		int rc = pbtxt_parse_schema(&tree, text, len, &ts_pbtxt_schema, &err);
		if (rc == MREG_ENOMEM) {
			fprintf(stderr, "out of memory\n");
			return 2;
		}
		ts_check(tree, schema_error, &first);
		if (rc)
			note(&first, err.tline, err.tcolumn, err.lexical ? 0 : 2, err.line, err.column,
			     err.message);
		if (first.has)
			printf("%u:%u: %s\n", first.line, first.column, first.message);
		else
			printf("accept\n");
		pbtxt_free(tree);
		free(text);
	}
	fclose(list);
	return 0;
}
