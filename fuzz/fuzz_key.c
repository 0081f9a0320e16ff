/* fuzz_key.c - key specs (`body`, `topic`, `json:/pointer`, from --key and
 * the config) and key extraction from a JSON body. The input's first line
 * is the spec, the rest the body. */
#include "fuzz_util.h"

#include "key.h"

#include "hashspace/error.h"

static const char topic[] = "org.example.topic";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t spec_len, body_len;
    const uint8_t *body = fuzz_split(data, size, &spec_len, &body_len);
    char *text = fuzz_cstr(data, spec_len);
    /* The body as the ingress sees it: a frame, not NUL-terminated. */
    char *frame = malloc(body_len > 0 ? body_len : 1);
    FUZZ_ASSERT(frame != NULL);
    memcpy(frame, body, body_len);

    hs__key_spec spec;
    char err[256] = "";
    int rc = hs__key_spec_parse(&spec, text, err, sizeof err);
    if (rc != HS_OK) {
        FUZZ_ASSERT(rc == HS_EPARSE || rc == HS_ENOMEM);
        FUZZ_ASSERT(err[0] != '\0' && spec.ntokens == 0 && spec.tokens == NULL);
        goto out;
    }
    if (spec.kind == HS__KEY_JSON) {
        size_t slashes = 0;
        for (const char *c = text; *c != '\0'; c++)
            slashes += *c == '/';
        FUZZ_ASSERT(spec.ntokens == slashes);
        for (size_t i = 0; i < spec.ntokens; i++)
            FUZZ_ASSERT(strlen(spec.tokens[i]) == spec.token_lens[i]);
    }
    hs__key_buf buf = {0};
    for (int round = 0; round < 2; round++) {
        const char *key = NULL;
        size_t klen = 0;
        hs__key_result res =
            hs__key_extract(&spec, topic, sizeof topic - 1, frame, body_len, &buf, &key, &klen);
        if (res != HS__KEY_OK) {
            FUZZ_ASSERT(hs__key_needs_json(&spec));
            continue;
        }
        if (spec.kind == HS__KEY_BODY)
            FUZZ_ASSERT(key == frame && klen == body_len);
        else if (spec.kind == HS__KEY_TOPIC)
            FUZZ_ASSERT(key == topic && klen == sizeof topic - 1);
        else /* in buf, NUL-terminated, or a slice of the body (key.h) */
            FUZZ_ASSERT((key == buf.data && klen < buf.cap && key[klen] == '\0') ||
                        (key >= frame && key + klen <= frame + body_len));
    }
    hs__key_buf_free(&buf);
    hs__key_spec_clear(&spec);
out:
    free(frame);
    free(text);
    return 0;
}
