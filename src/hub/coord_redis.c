/* coord_redis.c - the Redis coordinator backend (hiredis, synchronous).
 *
 * Layout, every key under the prefix "hashspace:{CLUSTER}:" (the braces make
 * it a Redis Cluster hash tag, so every key of a cluster sits in one slot):
 *   member:NAME  hash weight, heartbeat (ns), watermark (ns), leaving (0/1);
 *                PEXPIRE'd to the expiry at every heartbeat
 *   members      set: the names registered (an index; expired names are
 *                pruned by the propose script)
 *   watermark    hash NAME -> ns, outliving member:NAME (survivors need a
 *                dead hub's last watermark)
 *   views        list of JSON views, oldest first, trimmed to `keep`; a view
 *                that drops members records each one's watermark then
 *                ("departed")
 *   epoch        the highest epoch handed out
 *   confirmed    ns: the latest time some fetch promised no unknown view
 *                takes effect at or before; a new view starts after it
 *   born         ns: the first write since the database was empty
 *   events       pub/sub channel: "member NAME", "leave NAME", "view E"
 * Every operation is one Lua script (EVALSHA; a script runs atomically), so
 * two hubs that notice the same change make one view. Times come from
 * Redis TIME. Lua numbers are doubles, so the scripts count in microseconds
 * (exact up to 2^53) and store nanoseconds as text (the µs and "000").
 */
#include "coord.h"

#include "hashspace/error.h"

#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define LUA_COMMON                                                                                 \
    "local P = ARGV[1]\n"                                                                          \
    "local function now_us() local t = redis.call('TIME')\n"                                       \
    "  return tonumber(t[1]) * 1000000 + tonumber(t[2]) end\n"                                     \
    "local function fmt(x) return string.format('%.0f', x) end\n"                                  \
    "local function ns(u) if u <= 0 then return '0' end return fmt(u) .. '000' end\n"              \
    "local function us(s) if not s or #s <= 3 then return 0 end\n"                                 \
    "  return tonumber(string.sub(s, 1, -4)) or 0 end\n"                                           \
    "local function epoch_of(v) return tonumber(string.match(v, '\"epoch\":(%d+)')) end\n"         \
    "local function eff_of(v) return us(string.match(v, '\"effective_from\":(%d+)')) end\n"

/* ARGV: prefix, name, weight, watermark ns, expiry ms, leaving (0/1). */
static const char script_heartbeat[] =
    LUA_COMMON "local now = now_us()\n"
               "local mk = P .. 'member:' .. ARGV[2]\n"
               "local was = redis.call('HGET', mk, 'leaving')\n"
               "redis.call('HSET', mk, 'weight', ARGV[3], 'heartbeat', ns(now), 'watermark', "
               "ARGV[4], 'leaving', ARGV[6])\n"
               "redis.call('PEXPIRE', mk, ARGV[5])\n"
               "redis.call('SADD', P .. 'members', ARGV[2])\n"
               "redis.call('HSET', P .. 'watermark', ARGV[2], ARGV[4])\n"
               "redis.call('SET', P .. 'born', ns(now), 'NX')\n"
               "if was ~= ARGV[6] then redis.call('PUBLISH', P .. 'events', 'member ' .. "
               "ARGV[2]) end\n"
               "return ns(now)\n";

/* ARGV: prefix, name. */
static const char script_deregister[] =
    LUA_COMMON "local n = redis.call('DEL', P .. 'member:' .. ARGV[2])\n"
               "redis.call('SREM', P .. 'members', ARGV[2])\n"
               "redis.call('PUBLISH', P .. 'events', 'leave ' .. ARGV[2])\n"
               "return n\n";

/* ARGV: prefix, known epoch, lead µs, expiry µs, floor µs, keep, seed JSON
 * (or ""). Returns {outcome, epoch, effective_from ns}. */
static const char script_propose[] = LUA_COMMON
    "local function less(a, b)\n" /* bytewise, as the C side sorts (not strcoll) */
    "  for i = 1, math.min(#a, #b) do\n"
    "    local x, y = string.byte(a, i), string.byte(b, i)\n"
    "    if x ~= y then return x < y end\n"
    "  end\n"
    "  return #a < #b\n"
    "end\n"
    "local now = now_us()\n"
    "local VK = P .. 'views'\n"
    "local last = redis.call('LINDEX', VK, -1)\n"
    "if ARGV[7] ~= '' then\n" /* the caller's newest view, lost by a restart */
    "  local se = epoch_of(ARGV[7])\n"
    "  if se and (not last or se > epoch_of(last)) then\n"
    "    cjson.decode(ARGV[7])\n"
    "    redis.call('RPUSH', VK, ARGV[7])\n"
    "    last = ARGV[7]\n"
    "  end\n"
    "end\n"
    "local newest = last and epoch_of(last) or 0\n"
    "local epoch = math.max(tonumber(redis.call('GET', P .. 'epoch') or '0'), tonumber(ARGV[2]), "
    "newest)\n"
    "redis.call('SET', P .. 'epoch', fmt(epoch))\n"
    "local confirmed = math.max(us(redis.call('GET', P .. 'confirmed')), tonumber(ARGV[5]))\n"
    "redis.call('SET', P .. 'confirmed', ns(confirmed))\n"
    "redis.call('SET', P .. 'born', ns(now), 'NX')\n"
    "if now < us(redis.call('GET', P .. 'born')) + tonumber(ARGV[4]) then\n"
    "  return {'grace', fmt(epoch), '0'}\n"
    "end\n"
    "local live, leaving, n = {}, {}, 0\n"
    "for _, name in ipairs(redis.call('SMEMBERS', P .. 'members')) do\n"
    "  local h = redis.call('HMGET', P .. 'member:' .. name, 'weight', 'leaving')\n"
    "  if not h[1] then redis.call('SREM', P .. 'members', name)\n"
    "  elseif h[2] ~= '1' then live[name] = h[1]; n = n + 1\n"
    "  else leaving[name] = true end\n"
    "end\n"
    "if n == 0 then return {'nobody', fmt(epoch), '0'} end\n"
    "local gone = {}\n"
    "if last then\n"
    "  local v = cjson.decode(last)\n"
    "  local same = #v.members == n\n"
    "  if same then\n"
    "    for _, m in ipairs(v.members) do\n"
    "      local w = live[m.name]\n"
    "      if not w or tonumber(w) ~= m.weight then same = false; break end\n"
    "    end\n"
    "  end\n"
    "  if same then return {'same', fmt(epoch), '0'} end\n"
    /* the members it drops, with their watermark now: a crashed member's
     * last, before any later heartbeat of the same name could raise it */
    "  for _, m in ipairs(v.members) do\n"
    "    if not live[m.name] then gone[#gone + 1] = m.name end\n"
    "  end\n"
    "end\n"
    "local names = {}\n"
    "for name in pairs(live) do names[#names + 1] = name end\n"
    "table.sort(names, less)\n"
    "local parts = {}\n"
    "for i, name in ipairs(names) do\n"
    "  parts[i] = '{\"name\":' .. cjson.encode(name) .. ',\"weight\":' .. live[name] .. '}'\n"
    "end\n"
    "table.sort(gone, less)\n"
    "local dparts = {}\n"
    "for i, name in ipairs(gone) do\n"
    "  local wm = redis.call('HGET', P .. 'watermark', name)\n"
    "  dparts[i] = '{\"name\":' .. cjson.encode(name)\n"
    "  if wm and string.match(wm, '^%d+$') then dparts[i] = dparts[i] .. ',\"watermark\":' .. wm "
    "end\n"
    "  if leaving[name] then dparts[i] = dparts[i] .. ',\"leaving\":true' end\n"
    "  dparts[i] = dparts[i] .. '}'\n"
    "end\n"
    "local departed = ''\n"
    "if #dparts > 0 then departed = ',\"departed\":[' .. table.concat(dparts, ',') .. ']' end\n"
    "epoch = epoch + 1\n"
    "local eff = math.max(now + tonumber(ARGV[3]), confirmed + 1, (last and eff_of(last) or 0) + "
    "1)\n"
    "local v = '{\"epoch\":' .. fmt(epoch) .. ',\"effective_from\":' .. ns(eff) .. "
    "',\"created\":' .. ns(now) .. ',\"members\":[' .. table.concat(parts, ',') .. ']' .. "
    "departed .. '}'\n"
    "redis.call('RPUSH', VK, v)\n"
    "redis.call('LTRIM', VK, -tonumber(ARGV[6]), -1)\n"
    "redis.call('SET', P .. 'epoch', fmt(epoch))\n"
    "redis.call('PUBLISH', P .. 'events', 'view ' .. fmt(epoch))\n"
    "return {'created', fmt(epoch), ns(eff)}\n";

/* ARGV: prefix, since epoch, lead µs, expiry µs. Returns {now ns, promise
 * ns, oldest epoch, views after since...}. */
static const char script_fetch[] =
    LUA_COMMON "local now = now_us()\n"
               "local born = redis.call('GET', P .. 'born')\n"
               "local promise = 0\n"
               "if tonumber(ARGV[3]) > 0 and born and now >= us(born) + tonumber(ARGV[4]) then\n"
               "  promise = math.max(us(redis.call('GET', P .. 'confirmed')), now + "
               "tonumber(ARGV[3]))\n"
               "  redis.call('SET', P .. 'confirmed', ns(promise))\n"
               "end\n"
               "local all = redis.call('LRANGE', P .. 'views', 0, -1)\n"
               "local out = {ns(now), ns(promise), '0'}\n"
               "if #all > 0 then out[3] = fmt(epoch_of(all[1])) end\n"
               "local since = tonumber(ARGV[2])\n"
               "for _, v in ipairs(all) do\n"
               "  if epoch_of(v) > since then out[#out + 1] = v end\n"
               "end\n"
               "return out\n";

/* ARGV: prefix. Returns {now ns, then per member: name, weight, heartbeat,
 * leaving, watermark ("" when absent)}. */
static const char script_members[] =
    LUA_COMMON "local out = {ns(now_us())}\n"
               "local seen = {}\n"
               "local function add(name)\n"
               "  if seen[name] then return end\n"
               "  seen[name] = true\n"
               "  local h = redis.call('HMGET', P .. 'member:' .. name, 'weight', 'heartbeat', "
               "'leaving')\n"
               "  local wm = redis.call('HGET', P .. 'watermark', name)\n"
               "  out[#out + 1] = name\n"
               "  out[#out + 1] = h[1] or ''\n"
               "  out[#out + 1] = h[2] or ''\n"
               "  out[#out + 1] = h[3] or ''\n"
               "  out[#out + 1] = wm or ''\n"
               "end\n"
               "for _, n in ipairs(redis.call('SMEMBERS', P .. 'members')) do add(n) end\n"
               "for _, n in ipairs(redis.call('HKEYS', P .. 'watermark')) do add(n) end\n"
               "return out\n";

enum { S_HEARTBEAT, S_DEREGISTER, S_PROPOSE, S_FETCH, S_MEMBERS, S__COUNT };

static const char *const scripts[S__COUNT] = {script_heartbeat, script_deregister, script_propose,
                                              script_fetch, script_members};
static const char *const script_names[S__COUNT] = {"heartbeat", "deregister", "propose", "fetch",
                                                   "members"};

typedef struct redis_impl {
    redisContext *ctx, *sub;
    unsigned timeout_ms;
    char prefix[HS_MEMBER_NAME_MAX + 32];
    char sha[S__COUNT][41];
    bool loaded;
} redis_impl;

static redis_impl *impl_of(hs__coord *c)
{
    if (c->impl == NULL) {
        redis_impl *r = calloc(1, sizeof *r);
        if (r == NULL)
            return NULL;
        snprintf(r->prefix, sizeof r->prefix, "hashspace:{%s}:", c->cluster);
        c->impl = r;
    }
    return c->impl;
}

static void drop(redisContext **ctx)
{
    if (*ctx != NULL)
        redisFree(*ctx);
    *ctx = NULL;
}

static struct timeval tv_of(unsigned ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (suseconds_t)(ms % 1000) * 1000};
    return tv;
}

/* A connected context (SELECT done), or NULL with c->err set. */
static redisContext *dial(hs__coord *c, unsigned timeout_ms)
{
    redisContext *ctx = redisConnectWithTimeout(c->url.host, c->url.port, tv_of(timeout_ms));
    if (ctx == NULL || ctx->err) {
        hs__coord_fail(c, HS_EIO, "cannot connect to redis at %s:%d: %s", c->url.host, c->url.port,
                       ctx ? ctx->errstr : "out of memory");
        if (ctx)
            redisFree(ctx);
        return NULL;
    }
    redisSetTimeout(ctx, tv_of(timeout_ms));
    redisEnableKeepAlive(ctx);
    if (c->url.path[0] != '\0') {
        redisReply *r = redisCommand(ctx, "SELECT %s", c->url.path);
        if (r == NULL || r->type == REDIS_REPLY_ERROR) {
            hs__coord_fail(c, HS_EIO, "redis at %s:%d: SELECT %s failed: %s", c->url.host,
                           c->url.port, c->url.path, r ? r->str : ctx->errstr);
            if (r)
                freeReplyObject(r);
            redisFree(ctx);
            return NULL;
        }
        freeReplyObject(r);
    }
    return ctx;
}

static int load_scripts(hs__coord *c, redis_impl *r)
{
    for (int i = 0; i < S__COUNT; i++) {
        redisReply *rep = redisCommand(r->ctx, "SCRIPT LOAD %s", scripts[i]);
        if (rep == NULL || rep->type != REDIS_REPLY_STRING || rep->len != 40) {
            int rc = hs__coord_fail(c, HS_EIO, "redis at %s:%d: loading the %s script failed: %s",
                                    c->url.host, c->url.port, script_names[i],
                                    rep ? (rep->str ? rep->str : "bad reply") : r->ctx->errstr);
            if (rep)
                freeReplyObject(rep);
            drop(&r->ctx);
            return rc;
        }
        memcpy(r->sha[i], rep->str, 41);
        freeReplyObject(rep);
    }
    r->loaded = true;
    return HS_OK;
}

static int redis_connect(hs__coord *c, unsigned timeout_ms)
{
    redis_impl *r = impl_of(c);
    if (r == NULL)
        return hs__coord_fail(c, HS_ENOMEM, "out of memory");
    drop(&r->ctx);
    drop(&r->sub);
    r->timeout_ms = timeout_ms;
    if ((r->ctx = dial(c, timeout_ms)) == NULL)
        return HS_EIO;
    return load_scripts(c, r);
}

/* Run script i with argv (the prefix is added as ARGV[1]); the reply, or
 * NULL with c->err set (the connection is dropped on I/O errors). */
static redisReply *run(hs__coord *c, int i, int argc, const char **args)
{
    redis_impl *r = c->impl;
    if (r == NULL || r->ctx == NULL) {
        hs__coord_fail(c, HS_EIO, "not connected to redis at %s:%d", c->url.host, c->url.port);
        return NULL;
    }
    const char *argv[16];
    argv[0] = "EVALSHA";
    argv[1] = r->sha[i];
    argv[2] = "1";
    char members_key[sizeof r->prefix + 8];
    snprintf(members_key, sizeof members_key, "%smembers", r->prefix);
    argv[3] = members_key; /* KEYS[1]: routes the call to the cluster's slot */
    argv[4] = r->prefix;
    for (int a = 0; a < argc; a++)
        argv[5 + a] = args[a];
    for (int attempt = 0; attempt < 2; attempt++) {
        redisReply *rep = redisCommandArgv(r->ctx, 5 + argc, argv, NULL);
        if (rep == NULL) {
            hs__coord_fail(c, HS_EIO, "redis at %s:%d: %s", c->url.host, c->url.port,
                           r->ctx->errstr[0] ? r->ctx->errstr : "connection lost");
            drop(&r->ctx);
            return NULL;
        }
        if (rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, "NOSCRIPT", 8) == 0 &&
            attempt == 0) {
            freeReplyObject(rep);
            if (load_scripts(c, r) != HS_OK)
                return NULL;
            argv[1] = r->sha[i];
            continue;
        }
        if (rep->type == REDIS_REPLY_ERROR) {
            hs__coord_fail(c, HS_EIO, "redis at %s:%d: the %s script failed: %s", c->url.host,
                           c->url.port, script_names[i], rep->str);
            freeReplyObject(rep);
            return NULL;
        }
        return rep;
    }
    return NULL;
}

static bool reply_u64(const redisReply *rep, uint64_t *out)
{
    if (rep->type == REDIS_REPLY_INTEGER && rep->integer >= 0) {
        *out = (uint64_t)rep->integer;
        return true;
    }
    if (rep->type != REDIS_REPLY_STRING || rep->len == 0 || rep->len > 20)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < rep->len; i++) {
        if (rep->str[i] < '0' || rep->str[i] > '9' || v > (UINT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (uint64_t)(rep->str[i] - '0');
    }
    *out = v;
    return true;
}

static int bad_reply(hs__coord *c, const char *what)
{
    return hs__coord_fail(c, HS_EIO, "redis at %s:%d: unexpected answer to %s", c->url.host,
                          c->url.port, what);
}

static int redis_heartbeat(hs__coord *c, const hs__coord_beat *beat, uint64_t *now_ns)
{
    char weight[32], wm[24], expiry[24];
    snprintf(weight, sizeof weight, "%.17g", beat->weight);
    snprintf(wm, sizeof wm, "%" PRIu64, beat->watermark_ns);
    uint64_t ms = (beat->expiry_ns + 999999) / 1000000;
    snprintf(expiry, sizeof expiry, "%" PRIu64, ms);
    const char *args[] = {beat->name, weight, wm, expiry, beat->leaving ? "1" : "0"};
    redisReply *rep = run(c, S_HEARTBEAT, 5, args);
    if (rep == NULL)
        return HS_EIO;
    uint64_t now = 0;
    bool ok = reply_u64(rep, &now);
    freeReplyObject(rep);
    if (!ok)
        return bad_reply(c, "heartbeat");
    if (now_ns != NULL)
        *now_ns = now;
    return HS_OK;
}

static int redis_deregister(hs__coord *c, const char *name)
{
    const char *args[] = {name};
    redisReply *rep = run(c, S_DEREGISTER, 1, args);
    if (rep == NULL)
        return HS_EIO;
    freeReplyObject(rep);
    return HS_OK;
}

static int redis_propose(hs__coord *c, const hs__coord_proposal *p, hs__coord_proposed *out)
{
    char known[24], lead[24], expiry[24], floor_us[24], keep[24];
    snprintf(known, sizeof known, "%" PRIu64, p->known_epoch);
    snprintf(lead, sizeof lead, "%" PRIu64, p->lead_ns / 1000);
    snprintf(expiry, sizeof expiry, "%" PRIu64, p->expiry_ns / 1000);
    snprintf(floor_us, sizeof floor_us, "%" PRIu64, p->floor_ns / 1000);
    snprintf(keep, sizeof keep, "%zu", p->keep);
    char *seed = NULL;
    if (p->known != NULL && (seed = hs__coord_view_json(p->known)) == NULL)
        return hs__coord_fail(c, HS_ENOMEM, "out of memory");
    const char *args[] = {known, lead, expiry, floor_us, keep, seed ? seed : ""};
    redisReply *rep = run(c, S_PROPOSE, 6, args);
    free(seed);
    if (rep == NULL)
        return HS_EIO;
    int rc = HS_OK;
    memset(out, 0, sizeof *out);
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 3 ||
        rep->element[0]->type != REDIS_REPLY_STRING || !reply_u64(rep->element[1], &out->epoch) ||
        !reply_u64(rep->element[2], &out->effective_from_ns)) {
        rc = bad_reply(c, "propose");
    } else {
        const char *what = rep->element[0]->str;
        if (strcmp(what, "created") == 0)
            out->outcome = HS__COORD_CREATED;
        else if (strcmp(what, "same") == 0)
            out->outcome = HS__COORD_SAME;
        else if (strcmp(what, "grace") == 0)
            out->outcome = HS__COORD_GRACE;
        else if (strcmp(what, "nobody") == 0)
            out->outcome = HS__COORD_NOBODY;
        else
            rc = bad_reply(c, "propose");
    }
    freeReplyObject(rep);
    return rc;
}

static int redis_fetch(hs__coord *c, uint64_t since, uint64_t lead_ns, uint64_t expiry_ns,
                       hs__coord_fetch *out)
{
    memset(out, 0, sizeof *out);
    char since_s[24], lead[24], expiry[24];
    snprintf(since_s, sizeof since_s, "%" PRIu64, since);
    snprintf(lead, sizeof lead, "%" PRIu64, lead_ns / 1000);
    snprintf(expiry, sizeof expiry, "%" PRIu64, expiry_ns / 1000);
    const char *args[] = {since_s, lead, expiry};
    redisReply *rep = run(c, S_FETCH, 3, args);
    if (rep == NULL)
        return HS_EIO;
    int rc = HS_OK;
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements < 3 ||
        !reply_u64(rep->element[0], &out->now_ns) ||
        !reply_u64(rep->element[1], &out->confirmed_until_ns) ||
        !reply_u64(rep->element[2], &out->oldest_epoch)) {
        rc = bad_reply(c, "fetch");
        goto done;
    }
    size_t n = rep->elements - 3;
    if (n > 0 && (out->views = calloc(n, sizeof *out->views)) == NULL) {
        rc = hs__coord_fail(c, HS_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        const redisReply *v = rep->element[3 + i];
        char why[200];
        if (v->type != REDIS_REPLY_STRING) {
            rc = bad_reply(c, "fetch");
            goto done;
        }
        rc = hs__coord_view_parse(v->str, v->len, &out->views[i], why, sizeof why);
        if (rc != HS_OK) {
            rc = hs__coord_fail(c, rc, "redis at %s:%d: %s", c->url.host, c->url.port, why);
            goto done;
        }
        out->n = i + 1;
        if (i > 0 && (out->views[i].epoch <= out->views[i - 1].epoch ||
                      out->views[i].effective_from_ns < out->views[i - 1].effective_from_ns)) {
            rc = hs__coord_fail(
                c, HS_EPARSE,
                "redis at %s:%d: stored view %" PRIu64 " does not follow view %" PRIu64
                " (epochs and effective_from must increase)",
                c->url.host, c->url.port, out->views[i].epoch, out->views[i - 1].epoch);
            goto done;
        }
    }
done:
    freeReplyObject(rep);
    if (rc != HS_OK)
        hs__coord_fetch_free(out);
    return rc;
}

static int coord_member_cmp(const void *a, const void *b)
{
    return strcmp(((const hs__coord_member *)a)->name, ((const hs__coord_member *)b)->name);
}

static int redis_members(hs__coord *c, hs__coord_member **out, size_t *n, uint64_t *now_ns)
{
    *out = NULL;
    *n = 0;
    redisReply *rep = run(c, S_MEMBERS, 0, NULL);
    if (rep == NULL)
        return HS_EIO;
    int rc = HS_OK;
    hs__coord_member *m = NULL;
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements < 1 || (rep->elements - 1) % 5 != 0 ||
        !reply_u64(rep->element[0], now_ns)) {
        rc = bad_reply(c, "members");
        goto done;
    }
    size_t count = (rep->elements - 1) / 5;
    if ((m = calloc(count ? count : 1, sizeof *m)) == NULL) {
        rc = hs__coord_fail(c, HS_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < count; i++) {
        redisReply **f = rep->element + 1 + 5 * i;
        for (int k = 0; k < 5; k++)
            if (f[k]->type != REDIS_REPLY_STRING) {
                rc = bad_reply(c, "members");
                goto done;
            }
        snprintf(m[i].name, sizeof m[i].name, "%s", f[0]->str);
        m[i].live = f[1]->len > 0;
        if (m[i].live) {
            char *end;
            m[i].weight = strtod(f[1]->str, &end);
            reply_u64(f[2], &m[i].heartbeat_ns);
        }
        m[i].leaving = f[3]->len == 1 && f[3]->str[0] == '1';
        m[i].has_watermark = f[4]->len > 0 && reply_u64(f[4], &m[i].watermark_ns);
    }
    qsort(m, count, sizeof *m, coord_member_cmp);
    *out = m;
    *n = count;
    m = NULL;
done:
    free(m);
    freeReplyObject(rep);
    return rc;
}

static int redis_watch_fd(hs__coord *c)
{
    redis_impl *r = c->impl;
    if (r == NULL || r->ctx == NULL)
        return -1;
    if (r->sub == NULL) {
        if ((r->sub = dial(c, r->timeout_ms)) == NULL)
            return -1;
        char channel[sizeof r->prefix + 8];
        snprintf(channel, sizeof channel, "%sevents", r->prefix);
        redisReply *rep = redisCommand(r->sub, "SUBSCRIBE %s", channel);
        bool ok = rep != NULL && rep->type == REDIS_REPLY_ARRAY;
        if (rep)
            freeReplyObject(rep);
        if (!ok) {
            hs__coord_fail(c, HS_EIO, "redis at %s:%d: SUBSCRIBE failed", c->url.host, c->url.port);
            drop(&r->sub);
            return -1;
        }
    }
    return r->sub->fd;
}

static int redis_watch_drain(hs__coord *c, unsigned *events)
{
    redis_impl *r = c->impl;
    *events = 0;
    if (r == NULL || r->sub == NULL)
        return HS_OK;
    if (redisBufferRead(r->sub) != REDIS_OK) {
        int rc = hs__coord_fail(c, HS_EIO, "redis at %s:%d: the event subscription broke: %s",
                                c->url.host, c->url.port, r->sub->errstr);
        drop(&r->sub);
        return rc;
    }
    for (;;) {
        void *reply = NULL;
        if (redisGetReplyFromReader(r->sub, &reply) != REDIS_OK) {
            drop(&r->sub);
            return hs__coord_fail(c, HS_EIO, "redis at %s:%d: bad event", c->url.host, c->url.port);
        }
        if (reply == NULL)
            return HS_OK;
        (*events)++;
        freeReplyObject(reply);
    }
}

static void redis_close(hs__coord *c)
{
    redis_impl *r = c->impl;
    if (r == NULL)
        return;
    drop(&r->ctx);
    drop(&r->sub);
    free(r);
    c->impl = NULL;
}

const hs__coord_ops hs__coord_redis_ops = {
    .connect = redis_connect,
    .heartbeat = redis_heartbeat,
    .deregister = redis_deregister,
    .propose = redis_propose,
    .fetch = redis_fetch,
    .members = redis_members,
    .watch_fd = redis_watch_fd,
    .watch_drain = redis_watch_drain,
    .close = redis_close,
};
