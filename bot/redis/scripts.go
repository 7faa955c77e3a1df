package redis

import goredis "github.com/redis/go-redis/v9"

// Every script touches only keys of one chat (one hash tag) or one global
// key, and receives all key names in KEYS, so it runs on Redis Cluster.

// beginScript: KEYS seen, lock, session; ARGV update id, token, lease ms.
var beginSrc = handledLua + `
if handled(ARGV[1]) then return {'dup', ''} end
if not redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3], 'NX') then
  if redis.call('GET', KEYS[2]) ~= ARGV[2] then return {'busy', ''} end
  redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
end
return {'ok', redis.call('GET', KEYS[3]) or ''}
`

// commitScript: KEYS seen, lock, session, out, audit, blocked, fails,
// next, uncertain, bc, then (one server only, ARGV[9] >= 0) sendq, the
// day's stats and the day's gaps; ARGV update id, token, now ms, session
// JSON, retention s, seen ttl s, forget (0/1), control (0 none, 1
// blocked, 2 unblocked), schedule (-1: the caller schedules; 0: the chat
// is due now; > 0: claim the chat's lane for that many ms when it was
// idle), the chat's schedule member, stats ttl s (0: set already), keep
// (ms to keep the lock for the next update instead of releasing it; 0),
// the next update's id (with keep), retry ('1' when an earlier try may
// have been stored), count of outgoing messages, the messages, count of
// audit records, the records, count of stat fields, field and increment
// pairs, count of gaps, the gaps.
//
// It returns {outbox length, claimed (0/1), next seen (0/1)}, {-1, 0, 0}
// when the lock is not held with the token, or {-2, claimed, 0} when the
// update is committed already: a retry whose first reply was lost
// succeeds instead of failing the lock check, and learns whether the
// first try claimed the lane (its claim, at the same now, is still
// untouched). A retry looks at the handled ids even when it holds the
// lock: the first try may have kept it; the lock is then released.
// Counting inside the script counts an update once, however often its
// commit is tried. The erasure branch records the update too, so that a
// redelivered "forget: yes" is not handled twice.
//
// The erasure keeps one thing of the old outbox: its head's id, as a
// tombstone in the head's place. A sender may be sending that head right
// now; its settle pops the tombstone as it would have popped the message,
// and so lets the chat go at once for the confirmation behind it. Without
// it the settle popped nothing, took itself for a repeat, left the
// schedule alone, and the confirmation waited for the lease to run out.
// Next drops a tombstone that no settle took.
//
// A claim's score ends in .5 ms, which no other writer of the schedule
// uses (they write whole ms), so that only this commit's retry can take
// it for its own.
var commitSrc = tombstoneLua + handledLua + `
local sched = tonumber(ARGV[9])
local claimAt = tonumber(ARGV[3]) + sched + 0.5
local held = redis.call('GET', KEYS[2]) == ARGV[2]
if not held or ARGV[14] == '1' then
  if handled(ARGV[1]) then
    if held then redis.call('DEL', KEYS[2]) end
    local mine = 0
    if sched > 0 and tonumber(redis.call('ZSCORE', KEYS[11], ARGV[10]) or '0') == claimAt then mine = 1 end
    return {-2, mine, 0}
  end
  if not held then return {-1, 0, 0} end
end
local now = tonumber(ARGV[3])
local ret = tonumber(ARGV[5])
local seenTTL = tonumber(ARGV[6])
if ARGV[7] == '1' then
  local head = redis.call('LINDEX', KEYS[4], 0)
  redis.call('DEL', KEYS[1], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9], KEYS[10])
  redis.call('ZADD', KEYS[1], now, ARGV[1])
  redis.call('EXPIRE', KEYS[1], seenTTL)
  local gone = head and string.match(head, '^{"id":"([^"\\]*)"')
  if head and not gone then
    local ok, m = pcall(cjson.decode, head)
    if ok and type(m) == 'table' and type(m.id) == 'string' then gone = m.id end
  end
  -- With the schedule at hand, only a claimed chat (due later) may have
  -- a send in flight.
  if gone and sched >= 0 and tonumber(redis.call('ZSCORE', KEYS[11], ARGV[10]) or '0') <= now then gone = nil end
  if gone then
    redis.call('RPUSH', KEYS[4], tombstoneOf(gone))
    redis.call('EXPIRE', KEYS[4], ret)
  end
else
  redis.call('SET', KEYS[3], ARGV[4], 'EX', ret)
  -- The time replaces a failure count, if any (failScript).
  redis.call('ZADD', KEYS[1], now, ARGV[1])
  -- From 0, not -inf: failure counts of other ids are negative.
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '(0', now - seenTTL * 1000)
  redis.call('EXPIRE', KEYS[1], seenTTL)
end
if ARGV[8] == '1' then
  redis.call('SET', KEYS[6], '1', 'EX', ret)
elseif ARGV[8] == '2' then
  redis.call('DEL', KEYS[6])
end
local i = 16
local nout = tonumber(ARGV[15])
local n = 0
for _ = 1, nout do
  n = redis.call('RPUSH', KEYS[4], ARGV[i])
  i = i + 1
end
-- A list that existed has its expiry; only a new one needs it.
if nout > 0 and n == nout then redis.call('EXPIRE', KEYS[4], ret) end
local naudit = tonumber(ARGV[i])
i = i + 1
local alen = 0
for _ = 1, naudit do
  alen = redis.call('LPUSH', KEYS[5], ARGV[i])
  i = i + 1
end
if naudit > 0 then
  if alen > 100 then redis.call('LTRIM', KEYS[5], 0, 99) end
  redis.call('EXPIRE', KEYS[5], ret)
end
local claimed = 0
if sched >= 0 then
  if nout > 0 then
    -- Claim only a lane that was idle and may be sent to now: the
    -- sender that takes it skips asking for its head.
    local score = now
    if sched > 0 and n == nout then
      -- Blocked and paced in one call: both are the chat's keys.
      local bn = redis.call('MGET', KEYS[6], KEYS[8])
      local paced = tonumber(bn[2] or '0')
      if not bn[1] and paced <= now then
        score = claimAt
        claimed = 1
      elseif not bn[1] then
        -- Due when the chat's interval ends: a sender taking it sooner
        -- would only be told to wait.
        score = paced
      end
    end
    if redis.call('ZADD', KEYS[11], 'NX', score, ARGV[10]) == 0 then claimed = 0 end
  end
  local nstats = tonumber(ARGV[i])
  i = i + 1
  for _ = 1, nstats do
    redis.call('HINCRBY', KEYS[12], ARGV[i], ARGV[i + 1])
    i = i + 2
  end
  if nstats > 0 and ARGV[11] ~= '0' then redis.call('EXPIRE', KEYS[12], ARGV[11]) end
  local ngaps = tonumber(ARGV[i])
  i = i + 1
  for _ = 1, ngaps do
    redis.call('ZINCRBY', KEYS[13], 1, ARGV[i])
    i = i + 1
  end
  if ngaps > 0 then redis.call('EXPIRE', KEYS[13], ret) end
end
local nextSeen = 0
local keep = tonumber(ARGV[12])
if keep > 0 then
  redis.call('SET', KEYS[2], ARGV[2], 'PX', keep)
  if handled(ARGV[13]) then nextSeen = 1 end
else
  redis.call('DEL', KEYS[2])
end
return {n, claimed, nextSeen}
`

// failScript: KEYS seen, lock; ARGV update id, token, ttl s. The count
// is the id's score in seen, negative, so that the commit that handles
// the id at last replaces it with its time: no command of the answer
// path clears it. An id handled already keeps its time.
var failSrc = handledLua + `
local n = 0
if not handled(ARGV[1]) then
  n = -tonumber(redis.call('ZINCRBY', KEYS[1], -1, ARGV[1]))
  redis.call('EXPIRE', KEYS[1], ARGV[3])
end
if redis.call('GET', KEYS[2]) == ARGV[2] then redis.call('DEL', KEYS[2]) end
return n
`

// pushScript: KEYS queue, ids; ARGV retention s, ids ttl s, then pairs of
// item id and item JSON. An item whose id was queued before (a retried
// push whose reply was lost, a redelivered update) is skipped.
var pushSrc = `
local n = 0
for i = 3, #ARGV, 2 do
  if redis.call('SADD', KEYS[2], ARGV[i]) == 1 then
    redis.call('RPUSH', KEYS[1], ARGV[i + 1])
    n = n + 1
  end
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[2], ARGV[2])
return n
`

// releaseScript: KEYS lock; ARGV token. Releases the lock only if the
// token still holds it.
var releaseSrc = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`

// dueScript: KEYS sendq; ARGV now ms, lease ms, max. Returns the
// claimed chats, then the time (ms) the earliest remaining chat is due,
// or ” when none waits: an idle sender sleeps until then.
var dueSrc = claimAllLua + `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
claimAll(KEYS[1], tonumber(ARGV[1]) + tonumber(ARGV[2]), due)
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local out = {first[2] or ''}
for _, c in ipairs(due) do out[#out + 1] = c end
return out
`

// handledLua gives the scripts whose KEYS[1] is a chat's seen set
// handled(id): whether the update was handled. In seen, a handled id's
// score is when it was handled (ms, positive); a negative score counts
// an unhandled id's failed attempts (failScript).
const handledLua = `
local function handled(id) return tonumber(redis.call('ZSCORE', KEYS[1], id) or '0') > 0 end
`

// claimAllLua gives the claiming scripts claimAll(key, till, members):
// the members' scores become till, in one ZADD however many they are
// (a due call claims as many as the sender has workers), in chunks that
// stay within Lua's limit on unpacked arguments.
const claimAllLua = `
local function claimAll(key, till, members)
  local args = {}
  for i, m in ipairs(members) do
    args[#args + 1] = till
    args[#args + 1] = m
    if #args == 2000 or i == #members then
      redis.call('ZADD', key, unpack(args))
      args = {}
    end
  end
end
`

// tombstone ends the outbox entry that stands for a message erased
// while it may have been in flight (see commitScript); no message ends so,
// as a message's text is a quoted JSON string and has no gone field.
const tombstone = `,"gone":true}`

// tombstoneLua gives the scripts that write or skip tombstones
// tombstoneOf(id), the entry standing for message id, and
// isTombstone(raw).
const tombstoneLua = `
local tombEnd = '` + tombstone + `'
local function tombstoneOf(id) return '{"id":' .. cjson.encode(id) .. tombEnd end
local function isTombstone(raw) return string.sub(raw, -#tombEnd) == tombEnd end
`

// nextScript: KEYS out, next[, blocked]; ARGV now ms. A chat whose user
// blocked the bot gets nothing until they unblock it. With the head
// comes how many are queued, counted to 2 (one call for both): enough
// for the sender to know the last message.
var nextSrc = tombstoneLua + `
local nxt
if KEYS[3] then
  -- Blocked and paced in one call: both are the chat's keys.
  local bn = redis.call('MGET', KEYS[3], KEYS[2])
  if bn[1] then return {'blocked', ''} end
  nxt = tonumber(bn[2] or '0')
else
  nxt = tonumber(redis.call('GET', KEYS[2]) or '0')
end
if nxt > tonumber(ARGV[1]) then return {'wait', tostring(nxt)} end
local first = redis.call('LRANGE', KEYS[1], 0, 1)
if #first > 0 and isTombstone(first[1]) then
  redis.call('LPOP', KEYS[1])
  first = redis.call('LRANGE', KEYS[1], 0, 1)
end
if #first == 0 then return {'empty', ''} end
return {'ok', first[1], tostring(#first)}
`

// popScript: KEYS out, next; ARGV message id, now ms, quiet interval ms,
// retention s. The message is removed only if it is the head, so a
// repeated call after a retry removes nothing else. Returns how many are
// left and 1 if this call removed the message (the caller changes the
// schedule only then).
var popSrc = popHead + `
local iv = tonumber(ARGV[3])
if iv > 0 then redis.call('SET', KEYS[2], tonumber(ARGV[2]) + iv, 'PX', iv + 1000) end
return {redis.call('LLEN', KEYS[1]), popped and 1 or 0}
`

// popHead pops the head of KEYS[1] if it is the item ARGV[1], and pushes
// it back when it is another (a repeated call after a lost reply); a
// list the pop emptied gets its expiry (ARGV[4] s) again. The head is
// matched by its leading id field, as Go writes it, else decoded, so the
// order of its JSON fields does not matter. popped tells the rest of the
// script whether this call removed the item.
const popHead = `
local popped = false
local head = redis.call('LPOP', KEYS[1])
if head then
  popped = string.sub(head, 1, #ARGV[1] + 8) == '{"id":"' .. ARGV[1] .. '"'
  if not popped then
    local ok, m = pcall(cjson.decode, head)
    popped = ok and type(m) == 'table' and m.id == ARGV[1]
  end
  if not popped and redis.call('LPUSH', KEYS[1], head) == 1 then redis.call('EXPIRE', KEYS[1], ARGV[4]) end
end
`

// settleScript (one server only: it touches the chat's keys and the
// schedule): KEYS out, next, sendq; ARGV message id, now ms, quiet
// interval ms, retention s, chat, last ('1' when the sender lets the
// chat go). The pop as in popScript, then, in the same step, the
// schedule: a chat let go leaves it when its outbox is empty and is due
// after the interval when not; a chat kept is due after the interval.
// One step, because a schedule changed without the pop (the pop failing
// with NOSCRIPT in a pipeline) let another sender claim the chat and
// send the message again. The schedule changes only when this call removed the message:
// a repeat after a lost reply comes when another sender may have
// claimed the chat already, and making it due again, or due after the
// interval, would let a third sender send its message a second time.
var settleSrc = popHead + `
local now, iv = tonumber(ARGV[2]), tonumber(ARGV[3])
if iv > 0 then redis.call('SET', KEYS[2], now + iv, 'PX', iv + 1000) end
local n = redis.call('LLEN', KEYS[1])
if not popped then return n end
if ARGV[6] == '1' then
  -- A message that came meanwhile is due when the chat's interval ends,
  -- not before: a sender taking it sooner would only be told to wait.
  if n == 0 then redis.call('ZREM', KEYS[3], ARGV[5]) else redis.call('ZADD', KEYS[3], now + iv, ARGV[5]) end
elseif iv > 0 then
  redis.call('ZADD', KEYS[3], 'XX', now + iv, ARGV[5])
end
return n
`

// quietScript: KEYS next; ARGV until ms, now ms. Keeps the chat quiet
// (no sends) until the given time.
var quietSrc = `
local ms = tonumber(ARGV[1]) - tonumber(ARGV[2])
if ms > 0 then redis.call('SET', KEYS[1], ARGV[1], 'PX', ms + 1000) end
return 1
`

// reserveScript: KEYS rate; ARGV now µs, interval µs, slots. Reserves the
// next slots of the global rate, shared by every replica, and returns
// how long to wait for the first (the others follow at the interval). A
// sender reserves when it has a message and then waits, instead of
// asking again and again. Times are whole microseconds, as in rateScript.
var reserveSrc = `
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local nxt = tat + interval * tonumber(ARGV[3])
redis.call('SET', KEYS[1], string.format('%d', nxt), 'PX', math.floor((nxt - now) / 1000) + 1000)
return tat - now
`

// countOnceScript: KEYS stats; ARGV mark field, ttl s, then field and
// increment pairs. Counts only if the mark was not set.
var countOnceSrc = `
if redis.call('HSETNX', KEYS[1], ARGV[1], 1) == 0 then return 0 end
for i = 3, #ARGV, 2 do redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1
`

// leadScript: KEYS lock; ARGV token, ttl ms.
var leadSrc = `
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
`

type scripts struct {
	begin, commit, fail, release, push, due, next, pop, settle, quiet, reserve, lead, countOnce *goredis.Script
	bcClaim, bcDeliver, bcSettle                                                                *goredis.Script
}

func newScripts() scripts {
	return scripts{
		begin:     goredis.NewScript(beginSrc),
		commit:    goredis.NewScript(commitSrc),
		fail:      goredis.NewScript(failSrc),
		release:   goredis.NewScript(releaseSrc),
		push:      goredis.NewScript(pushSrc),
		due:       goredis.NewScript(dueSrc),
		next:      goredis.NewScript(nextSrc),
		pop:       goredis.NewScript(popSrc),
		settle:    goredis.NewScript(settleSrc),
		quiet:     goredis.NewScript(quietSrc),
		reserve:   goredis.NewScript(reserveSrc),
		lead:      goredis.NewScript(leadSrc),
		countOnce: goredis.NewScript(countOnceSrc),

		bcClaim:   goredis.NewScript(bcClaimSrc),
		bcDeliver: goredis.NewScript(bcDeliverSrc),
		bcSettle:  goredis.NewScript(bcSettleSrc),
	}
}

// ScriptSHA returns the SHA1 by which Redis knows one of the store's
// scripts ("begin", "commit" …), or "" for another name: for fault
// injection in tests, and for operators checking SCRIPT EXISTS.
func ScriptSHA(name string) string {
	s := newScripts()
	byName := map[string]*goredis.Script{"begin": s.begin, "commit": s.commit, "fail": s.fail, "release": s.release,
		"push": s.push, "due": s.due, "next": s.next, "pop": s.pop, "settle": s.settle, "quiet": s.quiet, "reserve": s.reserve, "lead": s.lead}
	if sc, ok := byName[name]; ok {
		return sc.Hash()
	}
	return ""
}

// bcClaimScript: KEYS todo; ARGV now ms, lease ms, max. Claims up to max
// recipients due at now until now+lease: {'ok', members...}; {'wait'}
// when some remain but none is due; {'done'} when none remains.
var bcClaimSrc = claimAllLua + `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
if #due == 0 then
  if redis.call('ZCARD', KEYS[1]) == 0 then return {'done'} end
  return {'wait'}
end
claimAll(KEYS[1], tonumber(ARGV[1]) + tonumber(ARGV[2]), due)
table.insert(due, 1, 'ok')
return due
`

// bcDeliverScript: KEYS session, out, blocked, bc (one chat); ARGV
// broadcast id, subscription keys joined by ',', retention s, then per
// language: the language, the number of messages, the messages. The
// session decides, not the index: a chat that unfollowed, changed its
// language, was forgotten or expired since the snapshot gets nothing.
// The chat's bc set makes a repeat (a crash after queuing) a no-op.
var bcDeliverSrc = `
if redis.call('SISMEMBER', KEYS[4], ARGV[1]) == 1 then return 'duplicate' end
local raw = redis.call('GET', KEYS[1])
if not raw then return 'gone' end
if redis.call('EXISTS', KEYS[3]) == 1 then return 'unreachable' end
local ok, s = pcall(cjson.decode, raw)
if not ok or type(s) ~= 'table' then return 'gone' end
local follows = false
if type(s['subs']) == 'table' then
  for _, k in ipairs(s['subs']) do
    for w in string.gmatch(ARGV[2], '[^,]+') do
      if k == w then follows = true end
    end
  end
end
if not follows then return 'unfollowed' end
local lang = s['lang']
local i = 4
while i <= #ARGV do
  local n = tonumber(ARGV[i + 1])
  if ARGV[i] == lang then
    for j = 1, n do redis.call('RPUSH', KEYS[2], ARGV[i + 1 + j]) end
    redis.call('EXPIRE', KEYS[2], ARGV[3])
    redis.call('SADD', KEYS[4], ARGV[1])
    redis.call('EXPIRE', KEYS[4], ARGV[3])
    return 'queued'
  end
  i = i + 2 + n
end
return 'unfollowed'
`

// bcSettleScript: KEYS todo, meta; ARGV pairs of member and delivery.
// Removes handled recipients and counts them, in one step.
var bcSettleSrc = `
for i = 1, #ARGV, 2 do
  if redis.call('ZREM', KEYS[1], ARGV[i]) == 1 then
    redis.call('HINCRBY', KEYS[2], ARGV[i + 1], 1)
  end
end
return 0
`
