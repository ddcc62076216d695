/* List Blobs answers and connection strings, parsed (see azure_parse.h). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "azure_parse.h"
#include "util/error_priv.h"
#include "util/strutil.h"
#include "util/dl_xml2.h"

#define CONN_MAX 8192

void azure_list_page_dispose(azure_list_page *p)
{
	for (size_t i = 0; i < p->count; i++)
		free(p->blobs[i].name);
	free(p->blobs);
	free(p->next_marker);
	memset(p, 0, sizeof(*p));
}

static bool named(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name);
}

static const xmlNode *child(const xmlNode *n, const char *name)
{
	for (const xmlNode *c = n ? n->children : NULL; c; c = c->next)
		if (named(c, name))
			return c;
	return NULL;
}

/* The text of an element (malloc'd; "" when empty), NULL when out of memory. */
static char *text_of(const xmlNode *n)
{
	xmlChar *t = sym_xmlNodeGetContent(n);
	char *out = strdup(t ? (const char *)t : "");

	(*sym_xmlFree)(t);
	return out;
}

static int parse_blob(azure_blob *b, const xmlNode *n)
{
	const xmlNode *name = child(n, "Name"), *props = child(n, "Properties");
	const xmlNode *len = child(props, "Content-Length"), *meta = child(n, "Metadata");
	char *size = NULL, *end;
	int rc = 0;

	memset(b, 0, sizeof(*b));
	if (!name || !len)
		return mreg_seterr(MREG_ECORRUPT, "List Blobs: a Blob without Name or Content-Length");
	if (!(b->name = text_of(name)) || !(size = text_of(len)))
		return mreg_seterr_nomem();
	if (!b->name[0] || strlen(b->name) > AZURE_NAME_MAX)
		rc = mreg_seterr(MREG_ECORRUPT, "List Blobs: a blob name that is empty or longer "
						"than %d bytes",
				 AZURE_NAME_MAX);
	else if (!size[0] || size[0] == '-' || strlen(size) > 19 ||
		 (b->size = strtoull(size, &end, 10), *end))
		rc = mreg_seterr(MREG_ECORRUPT, "List Blobs: blob '%.200s': Content-Length '%.40s' "
						"is not a size",
				 b->name, size);
	for (const xmlNode *m = meta ? meta->children : NULL; m && rc == 0; m = m->next) {
		if (m->type == XML_ELEMENT_NODE && !strcasecmp((const char *)m->name, "hdi_isfolder")) {
			char *v = text_of(m);
			b->folder = v && !strcasecmp(v, "true");
			free(v);
		}
	}
	free(size);
	return rc;
}

int azure_list_parse(azure_list_page *out, const char *xml, size_t len)
{
	xmlDoc *doc;
	const xmlNode *root, *blobs, *marker;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if ((rc = dl_xml2_need("reading an Azure container's list of blobs (mreg create URL)")))
		return rc;
	if (len > AZURE_LIST_BODY_MAX || len > (size_t)INT32_MAX)
		return mreg_seterr(MREG_ECORRUPT, "List Blobs: an answer larger than %u bytes",
				   AZURE_LIST_BODY_MAX);
	/* No network, no entity substitution, no DTD loading; errors not printed. */
	doc = sym_xmlReadMemory(xml, (int)len, "list.xml", NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc)
		return mreg_seterr(MREG_ECORRUPT, "List Blobs: the answer is not XML");
	root = sym_xmlDocGetRootElement(doc);
	if (!root || !named(root, "EnumerationResults")) {
		rc = mreg_seterr(MREG_ECORRUPT, "List Blobs: the answer is not EnumerationResults");
		goto done;
	}
	blobs = child(root, "Blobs");
	for (const xmlNode *b = blobs ? blobs->children : NULL; b; b = b->next) {
		if (!named(b, "Blob"))
			continue;
		if (out->count == AZURE_PAGE_MAX) {
			rc = mreg_seterr(MREG_ECORRUPT, "List Blobs: more than %d blobs in one answer",
					 AZURE_PAGE_MAX);
			goto done;
		}
		if (!out->blobs && !(out->blobs = calloc(AZURE_PAGE_MAX, sizeof(*out->blobs)))) {
			rc = mreg_seterr_nomem();
			goto done;
		}
		rc = parse_blob(&out->blobs[out->count], b);
		out->count++;
		if (rc)
			goto done;
	}
	marker = child(root, "NextMarker");
	if (marker && !(out->next_marker = text_of(marker)))
		rc = mreg_seterr_nomem();
	else if (out->next_marker && strlen(out->next_marker) > 4096)
		rc = mreg_seterr(MREG_ECORRUPT, "List Blobs: a NextMarker longer than 4096 bytes");
done:
	sym_xmlFreeDoc(doc);
	if (rc)
		azure_list_page_dispose(out);
	return rc;
}

static void wipe(char **s)
{
	if (*s) {
		sodium_memzero(*s, strlen(*s));
		free(*s);
		*s = NULL;
	}
}

void azure_conn_dispose(azure_conn *c)
{
	free(c->protocol);
	free(c->account);
	wipe(&c->key);
	free(c->blob_endpoint);
	free(c->suffix);
	wipe(&c->sas);
	memset(c, 0, sizeof(*c));
}

int azure_conn_parse(azure_conn *out, const char *text)
{
	static const char *const names[] = {"DefaultEndpointsProtocol", "AccountName",
					    "AccountKey", "BlobEndpoint", "EndpointSuffix",
					    "SharedAccessSignature"};
	const char *p = text;

	memset(out, 0, sizeof(*out));
	if (strnlen(text, CONN_MAX + 1) > CONN_MAX)
		return mreg_seterr(MREG_EINVALID, "AZURE_STORAGE_CONNECTION_STRING: longer than %d "
						  "bytes",
				   CONN_MAX);
	while (*p) {
		size_t n = strcspn(p, ";");
		const char *eq = memchr(p, '=', n);
		if (n == 0) {
			p++;
			continue;
		}
		if (!eq || eq == p) {
			azure_conn_dispose(out);
			return mreg_seterr(MREG_EINVALID, "AZURE_STORAGE_CONNECTION_STRING: a part "
							  "that is not Key=Value");
		}
		size_t klen = (size_t)(eq - p);
		char **slot = NULL;
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			if (strlen(names[i]) == klen && !strncasecmp(p, names[i], klen)) {
				char **slots[] = {&out->protocol, &out->account, &out->key,
						  &out->blob_endpoint, &out->suffix, &out->sas};
				slot = slots[i];
			}
		}
		if (klen == 21 && !strncasecmp(p, "UseDevelopmentStorage", klen))
			out->development = n - klen - 1 == 4 && !strncasecmp(eq + 1, "true", 4);
		if (slot) {
			free(*slot);
			if (!(*slot = strndup(eq + 1, n - klen - 1))) {
				azure_conn_dispose(out);
				return mreg_seterr_nomem();
			}
		}
		p += n;
		if (*p == ';')
			p++;
	}
	if (out->protocol && strcasecmp(out->protocol, "https") && strcasecmp(out->protocol, "http")) {
		azure_conn_dispose(out);
		return mreg_seterr(MREG_EINVALID, "AZURE_STORAGE_CONNECTION_STRING: "
						  "DefaultEndpointsProtocol must be https or http");
	}
	return 0;
}
