/* DSJ-DRAW-1 record verifier for the browser: an independent implementation of the standard
 * (draw-v1.md sections 1-9), written from the specification. SHA-256 comes from WebCrypto,
 * Ed25519 from WebCrypto where the browser has it, else from the vendored @noble/ed25519.
 *
 * window.dsjVerify(bytes, filename, options) -> Promise<{ok, checks: [{name, ok, detail}], ...}>
 */
(function () {
  'use strict';

  var SPEC = 'DSJ-DRAW-1';
  var SEP = '\x1f';
  var LF = '\n';
  var MIN_DIGITS = 20;
  var MAX_BYTES = 64 * 1024 * 1024;
  var MAX_DEPTH = 200;
  var MAX_INFLATED = 256 * 1024 * 1024;
  var SHOWN = 8;
  var REQUIRED = ['spec', 'session', 'status', 'task', 'targets', 'inspectors', 'experts', 'params',
    'hashes', 'commitment', 'nonce', 'witnesses', 'seed', 'selected', 'substitutions', 'exclusions',
    'previous', 'signature'];

  var utf8 = new TextEncoder();
  var HEX = [];
  for (var i = 0; i < 256; i++) HEX.push((i < 16 ? '0' : '') + i.toString(16));

  /** A problem with the file itself (not a record, damaged, too big): shown as one message. */
  function InputProblem(message) { this.message = message; }
  /** The inputs of the draw do not allow recomputing it (e.g. a quota larger than its stratum). */
  function DrawProblem(message) { this.message = message; }

  function hexOf(bytes) {
    var s = '';
    for (var j = 0; j < bytes.length; j++) s += HEX[bytes[j]];
    return s;
  }

  function show(v) {
    var s = String(v).replace(/[\x00-\x1f\x7f]/g, function (c) {
      return '\\x' + HEX[c.charCodeAt(0)];
    });
    return s.length > 80 ? s.slice(0, 79) + '…' : s;
  }

  function limited(problems) {
    var s = problems.slice(0, SHOWN).join('；');
    if (problems.length > SHOWN) s += '；……共 ' + problems.length + ' 处不同';
    return s;
  }

  /* Strings ordered by their UTF-8 bytes (= by code point). JavaScript compares UTF-16 code
   * units, which differs only where a surrogate meets a unit at or above U+E000. */
  function unit(c) { return c >= 0xE000 ? c - 0x800 : (c >= 0xD800 ? c + 0x2000 : c); }
  function cmpText(a, b) {
    if (a === b) return 0;
    var n = Math.min(a.length, b.length);
    for (var k = 0; k < n; k++) {
      var x = a.charCodeAt(k), y = b.charCodeAt(k);
      if (x !== y) {
        if (x >= 0xD800 && y >= 0xD800) return unit(x) - unit(y);
        return x - y;
      }
    }
    return a.length - b.length;
  }

  // ------------------------------------------------------------------------------------------
  // JSON: a strict parser keeping what canonical JSON needs (integers exactly, floats marked,
  // duplicate keys refused, objects without prototype), iterative so deep nesting cannot hang.

  function JFloat(text) { this.text = text; }

  function isInt(v) { return (typeof v === 'number') || (typeof v === 'bigint'); }
  function isObj(v) { return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof JFloat); }
  function isStr(v) { return typeof v === 'string'; }
  function num(v) { return typeof v === 'bigint' ? Number(v) : v; }

  function parseJSON(text, name) {
    var pos = 0, len = text.length;
    function fail(what) {
      var line = 1, col = 1;
      for (var q = 0; q < pos && q < len; q++) {
        if (text.charCodeAt(q) === 10) { line++; col = 1; } else col++;
      }
      throw new InputProblem('文件“' + name + '”不是有效的 JSON（第 ' + line + ' 行第 ' + col +
        ' 列附近' + what + '），不是抽取记录。');
    }
    function ws() {
      while (pos < len) {
        var c = text.charCodeAt(pos);
        if (c === 32 || c === 10 || c === 13 || c === 9) pos++; else break;
      }
    }
    var BAD = /[\x00-\x1f]/;
    function str() {
      pos++; // opening quote
      var start = pos;
      var end = text.indexOf('"', pos);
      if (end < 0) fail('字符串没有结束');
      var chunk = text.slice(start, end);
      if (chunk.indexOf('\\') < 0) {
        if (BAD.test(chunk)) { pos = start + chunk.search(BAD); fail('有未转义的控制字符'); }
        pos = end + 1;
        return chunk;
      }
      var out = '';
      while (true) {
        if (pos >= len) fail('字符串没有结束');
        var c = text.charCodeAt(pos);
        if (c === 34) { pos++; return out; }
        if (c < 32) fail('有未转义的控制字符');
        if (c !== 92) {
          var next = pos;
          while (next < len) {
            var d = text.charCodeAt(next);
            if (d === 34 || d === 92 || d < 32) break;
            next++;
          }
          out += text.slice(pos, next);
          pos = next;
          continue;
        }
        var e = text.charAt(pos + 1);
        pos += 2;
        switch (e) {
          case '"': out += '"'; break;
          case '\\': out += '\\'; break;
          case '/': out += '/'; break;
          case 'b': out += '\b'; break;
          case 'f': out += '\f'; break;
          case 'n': out += '\n'; break;
          case 'r': out += '\r'; break;
          case 't': out += '\t'; break;
          case 'u':
            var h = text.slice(pos, pos + 4);
            if (!/^[0-9a-fA-F]{4}$/.test(h)) fail('\\u 转义有误');
            out += String.fromCharCode(parseInt(h, 16));
            pos += 4;
            break;
          default: pos -= 2; fail('有无效的转义');
        }
      }
    }
    var NUM = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
    function number() {
      NUM.lastIndex = pos;
      var m = NUM.exec(text);
      if (!m || m[0] === '-' || m[0].length === 0) fail('有无效的值');
      pos += m[0].length;
      if (m[1] !== undefined || m[2] !== undefined) return new JFloat(m[0]);
      var n = Number(m[0]);
      if (Number.isSafeInteger(n)) return n === 0 ? 0 : n;
      return BigInt(m[0]);
    }
    function literal(word, value) {
      if (text.substr(pos, word.length) !== word) fail('有无效的值');
      pos += word.length;
      return value;
    }
    // Iterative: a stack of open containers.
    var stack = [];
    var root;
    var value;
    var haveValue = false;
    ws();
    while (true) {
      if (!haveValue) {
        if (pos >= len) fail('内容不完整');
        var c = text.charCodeAt(pos);
        if (c === 123) { // {
          pos++;
          if (stack.length >= MAX_DEPTH) throw new InputProblem('文件“' + name + '”的 JSON 嵌套超过 ' + MAX_DEPTH + ' 层，不是抽取记录。');
          var o = Object.create(null);
          ws();
          if (text.charCodeAt(pos) === 125) { pos++; value = o; haveValue = true; continue; }
          if (text.charCodeAt(pos) !== 34) fail('应为带引号的键');
          var key = str();
          ws();
          if (text.charCodeAt(pos) !== 58) fail('应为冒号');
          pos++; ws();
          stack.push({ c: o, key: key, keys: 1 });
          continue;
        }
        if (c === 91) { // [
          pos++;
          if (stack.length >= MAX_DEPTH) throw new InputProblem('文件“' + name + '”的 JSON 嵌套超过 ' + MAX_DEPTH + ' 层，不是抽取记录。');
          var a = [];
          ws();
          if (text.charCodeAt(pos) === 93) { pos++; value = a; haveValue = true; continue; }
          stack.push({ c: a, key: null });
          continue;
        }
        if (c === 34) value = str();
        else if (c === 116) value = literal('true', true);
        else if (c === 102) value = literal('false', false);
        else if (c === 110) value = literal('null', null);
        else value = number();
        haveValue = true;
      }
      // place the value
      if (stack.length === 0) { root = value; break; }
      var top = stack[stack.length - 1];
      if (top.key === null) top.c.push(value);
      else {
        if (Object.prototype.hasOwnProperty.call(top.c, top.key)) {
          throw new InputProblem('记录中同一个对象里出现了两次键“' + show(top.key) + '”：这样的文件可能被改动过，不能验证。');
        }
        top.c[top.key] = value;
      }
      haveValue = false;
      ws();
      var d = text.charCodeAt(pos);
      if (d === 44) { // ,
        pos++; ws();
        if (top.key !== null) {
          if (text.charCodeAt(pos) !== 34) fail('应为带引号的键');
          top.key = str();
          ws();
          if (text.charCodeAt(pos) !== 58) fail('应为冒号');
          pos++; ws();
        }
        continue;
      }
      if ((top.key === null && d === 93) || (top.key !== null && d === 125)) {
        pos++;
        stack.pop();
        value = top.c;
        haveValue = true;
        continue;
      }
      fail('应为逗号或结束括号');
    }
    ws();
    if (pos < len) fail('有多余的内容');
    return root;
  }

  // ------------------------------------------------------------------------------------------
  // Canonical JSON (section 1): sorted keys, no whitespace, non-ASCII as itself, no floats.

  function CanonProblem(message) { this.message = message; }
  var ESC = /["\\\x00-\x1f]/;
  var ESC_ALL = /["\\\x00-\x1f]/g;
  var SHORT = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };
  function quote(s) {
    if (!ESC.test(s)) return '"' + s + '"';
    return '"' + s.replace(ESC_ALL, function (c) {
      return SHORT[c] || ('\\u00' + HEX[c.charCodeAt(0)]);
    }) + '"';
  }
  // Rows of a list usually have the same keys in the same order: sort them once.
  var lastKeys = [], lastSorted = [];
  function sortedKeys(keys) {
    var same = keys.length === lastKeys.length;
    for (var k = 0; same && k < keys.length; k++) same = keys[k] === lastKeys[k];
    if (!same) { lastKeys = keys; lastSorted = keys.slice().sort(cmpText); }
    return lastSorted;
  }
  function canonParts(v, out) {
    if (v === null) { out.push('null'); return; }
    switch (typeof v) {
      case 'string': out.push(quote(v)); return;
      case 'boolean': out.push(v ? 'true' : 'false'); return;
      case 'number': out.push(String(v)); return;
      case 'bigint': out.push(v.toString()); return;
    }
    if (v instanceof JFloat) throw new CanonProblem('规范 JSON 中不允许小数（浮点数）：' + v.text);
    if (Array.isArray(v)) {
      out.push('[');
      for (var k = 0; k < v.length; k++) {
        if (k) out.push(',');
        canonParts(v[k], out);
      }
      out.push(']');
      return;
    }
    var keys = sortedKeys(Object.keys(v));
    out.push('{');
    for (var j = 0; j < keys.length; j++) {
      out.push((j ? ',' : '') + quote(keys[j]) + ':');
      canonParts(v[keys[j]], out);
    }
    out.push('}');
  }
  function canonical(v) {
    var out = [];
    canonParts(v, out);
    return out.join('');
  }

  // ------------------------------------------------------------------------------------------
  // Hashing (WebCrypto) and Ed25519

  function needCrypto() {
    if (!(window.crypto && window.crypto.subtle)) {
      throw new InputProblem('本浏览器（或打开方式）不提供 WebCrypto 加密功能，无法核验。请双击本文件用浏览器直接打开' +
        '（地址以 file:// 开头），或通过 https 网址打开；也可换用新版 Chrome、Edge、Firefox 或统信/麒麟系统自带的浏览器。');
    }
  }

  function sha256Bytes(bytes) {
    return crypto.subtle.digest('SHA-256', bytes).then(function (b) { return new Uint8Array(b); });
  }
  function H(text) {
    return sha256Bytes(utf8.encode(text)).then(hexOf);
  }

  /** SHA-256 of prefix + item for every item, as Uint8Arrays. All requests are issued at once:
   * WebCrypto then works through them without waiting for a round trip per batch (about twice
   * as fast as batches of a few thousand). Progress is reported as they complete. */
  async function digestsOf(prefix, items, progress) {
    var n = items.length, STEP = 2048;
    var ps = new Array(n);
    // WebCrypto copies its input when called, so one buffer holds every input in turn:
    // the prefix once, each item written after it.
    var head = utf8.encode(prefix);
    var buf = new Uint8Array(head.length + 256);
    buf.set(head);
    for (var k = 0; k < n; k++) {
      var item = items[k];
      if (item.length * 3 > buf.length - head.length) {
        var bigger = new Uint8Array(head.length + item.length * 3);
        bigger.set(head);
        buf = bigger;
      }
      var w = utf8.encodeInto(item, buf.subarray(head.length)).written;
      ps[k] = crypto.subtle.digest('SHA-256', buf.subarray(0, head.length + w));
      if (progress && (k % STEP === STEP - 1 || k === n - 1)) {
        ps[k].then(progress.bind(null, (k % STEP) + 1), function () {});
      }
    }
    var got = await Promise.all(ps);
    var out = new Array(n);
    for (var m = 0; m < n; m++) out[m] = new Uint8Array(got[m]);
    return out;
  }

  function cmpBytes(a, b) {
    for (var k = 0; k < 32; k++) if (a[k] !== b[k]) return a[k] - b[k];
    return 0;
  }
  function head48(d) {
    return ((((d[0] * 256 + d[1]) * 256 + d[2]) * 256 + d[3]) * 256 + d[4]) * 256 + d[5];
  }
  /** Indices of items ordered by (digest, id bytes). */
  function order(digests, ids) {
    var n = digests.length, idx = new Array(n), key = new Float64Array(n);
    for (var k = 0; k < n; k++) { idx[k] = k; key[k] = head48(digests[k]); }
    idx.sort(function (a, b) {
      return (key[a] - key[b]) || cmpBytes(digests[a], digests[b]) || cmpText(ids[a], ids[b]);
    });
    return idx;
  }

  var nobleModule = null;
  async function noble() {
    if (nobleModule) return nobleModule;
    var el = document.getElementById('noble-ed25519');
    if (!el) throw new Error('vendored Ed25519 missing');
    var url = URL.createObjectURL(new Blob([el.textContent], { type: 'text/javascript' }));
    try {
      nobleModule = await import(url);
    } finally {
      URL.revokeObjectURL(url);
    }
    return nobleModule;
  }

  var ed25519Engine = null; // 'webcrypto' or 'noble', after the first signature check
  async function ed25519Verify(publicKey, signature, message) {
    if (!window.DSJ_FORCE_NOBLE) {
      var key = null;
      try {
        key = await crypto.subtle.importKey('raw', publicKey, { name: 'Ed25519' }, false, ['verify']);
      } catch (e) {
        key = null; // not supported by this browser (or a key it refuses): use noble
      }
      if (key) {
        ed25519Engine = 'webcrypto';
        return await crypto.subtle.verify({ name: 'Ed25519' }, key, signature, message);
      }
    }
    var ed = await noble();
    ed25519Engine = 'noble';
    try {
      return await ed.verifyAsync(signature, message, publicKey, { zip215: false });
    } catch (e) {
      return false;
    }
  }

  function fromHex(text) {
    if (!isStr(text)) return null;
    var t = text.replace(/[\t\n\v\f\r ]/g, '');
    if (t.length % 2 || !/^[0-9a-fA-F]*$/.test(t)) return null;
    var out = new Uint8Array(t.length / 2);
    for (var k = 0; k < out.length; k++) out[k] = parseInt(t.substr(2 * k, 2), 16);
    return out;
  }

  function groupHex(hex) {
    var h = hex.toUpperCase(), parts = [];
    for (var k = 0; k < h.length; k += 4) parts.push(h.slice(k, k + 4));
    return parts.join(' ');
  }

  // ------------------------------------------------------------------------------------------
  // Sections 2 and 7: the parameters the draw reads

  function defaultCap(total, per, pool) {
    if (per <= 0 || total <= 0) return 0;
    if (pool <= 0) return total;
    return Math.ceil(total * per / pool);
  }

  function readParams(p, nInspectors, nExperts) {
    function bad(msg) { throw new DrawProblem(msg); }
    if (!isObj(p)) bad('抽取参数应为 JSON 对象。');
    if (!('quotas' in p)) bad('抽取参数缺少“quotas”（各分层抽取数量）。');
    if (!('team_size' in p)) bad('抽取参数缺少“team_size”（每组执法人员人数）。');
    if (!isObj(p.quotas)) bad('抽取参数“quotas”应为“分层名称 → 数量”的对象。');
    var quotas = new Map(), total = 0;
    Object.keys(p.quotas).forEach(function (s) {
      var k = p.quotas[s];
      if (!isInt(k) || num(k) < 0) bad('分层“' + show(s) + '”的抽取数量应为不小于 0 的整数。');
      quotas.set(s, num(k));
      total += num(k);
    });
    var mandatory = 'mandatory' in p ? p.mandatory : [];
    if (!Array.isArray(mandatory) || !mandatory.every(isStr)) bad('抽取参数“mandatory”（必查对象）应为统一社会信用代码的列表。');
    if (new Set(mandatory).size !== mandatory.length) bad('必查对象重复列出。');
    function int(key, min) {
      var v = p[key];
      if (!isInt(v) || num(v) < min) bad('抽取参数“' + key + '”应为不小于 ' + min + ' 的整数。');
      return num(v);
    }
    var teamSize = int('team_size', 2);
    var expertCount = 'expert_count' in p ? int('expert_count', 0) : 0;
    total += mandatory.length;
    if (total <= 0) bad('本次抽取的对象数量为 0。');
    var inspectorCap = 'inspector_cap' in p ? int('inspector_cap', 1) : defaultCap(total, teamSize, nInspectors);
    var expertCap = 'expert_cap' in p ? int('expert_cap', expertCount ? 1 : 0) : defaultCap(total, expertCount, nExperts);
    function conflicts(key) {
      var raw = key in p ? p[key] : [];
      if (!Array.isArray(raw)) bad('抽取参数“' + key + '”应为 [人员, 对象] 对的列表。');
      var byTarget = new Map();
      raw.forEach(function (pair) {
        if (!(Array.isArray(pair) && pair.length === 2 && isStr(pair[0]) && isStr(pair[1]))) {
          bad('抽取参数“' + key + '”中有一项不是 [人员代码, 统一社会信用代码] 对。');
        }
        if (!byTarget.has(pair[1])) byTarget.set(pair[1], new Set());
        byTarget.get(pair[1]).add(pair[0]);
      });
      return byTarget;
    }
    return {
      quotas: quotas, mandatory: mandatory, teamSize: teamSize, inspectorCap: inspectorCap,
      expertCount: expertCount, expertCap: expertCap,
      conflicts: { inspector: conflicts('inspector_conflicts'), expert: conflicts('expert_conflicts') }
    };
  }

  // ------------------------------------------------------------------------------------------
  // Sections 4-6: tickets, selection, teams, substitutes

  /** Everybody ranked by their ticket for target t (I or E), ties by id. */
  async function rankings(seed, kind, targets, people, progress) {
    var out = new Map();
    if (!people.length) { targets.forEach(function (t) { out.set(t, []); }); return out; }
    // one request for every (target, person) pair
    var items = [];
    targets.forEach(function (t) { people.forEach(function (pid) { items.push(t + SEP + pid); }); });
    var digests = await digestsOf(seed + SEP + kind + SEP, items, progress);
    targets.forEach(function (t, n) {
      var d = digests.slice(n * people.length, (n + 1) * people.length);
      var idx = order(d, people);
      out.set(t, idx.map(function (k) { return people[k]; }));
    });
    return out;
  }

  function assign(order_, ranking, size, cap, banned, who) {
    var count = new Map(), teams = [];
    order_.forEach(function (t) {
      if (size <= 0) { teams.push([]); return; }
      var no = banned.get(t);
      var ranked = no ? ranking.get(t).filter(function (p) { return !no.has(p); }) : ranking.get(t);
      var team = [];
      for (var k = 0; k < ranked.length && team.length < size; k++) {
        if ((count.get(ranked[k]) || 0) < cap) team.push(ranked[k]);
      }
      for (var m = 0; m < ranked.length && team.length < size; m++) {
        if (team.indexOf(ranked[m]) < 0) team.push(ranked[m]);
      }
      if (team.length < size) {
        throw new DrawProblem('对象“' + show(t) + '”回避后只有 ' + ranked.length + ' 名' + who + '可以分配，少于每组需要的 ' + size + ' 名。');
      }
      team.forEach(function (p) { count.set(p, (count.get(p) || 0) + 1); });
      teams.push(team);
    });
    return teams;
  }

  async function recompute(seed, groups, inspectors, experts, P, progress, mark) {
    var prefix = seed + SEP + 'target' + SEP;
    var chosen = []; // {digest, id, stratum}
    // every ticket needed (the strata drawn from, and the mandatory targets) in one request
    var wanted = [], all = [];
    P.quotas.forEach(function (k, s) {
      if (k <= 0) return;
      var ids = groups.get(s) || [];
      if (k > ids.length) throw new DrawProblem('分层“' + show(s) + '”只有 ' + ids.length + ' 个候选对象，不能抽取 ' + k + ' 个。');
      wanted.push([s, k, all.length, ids]);
      for (var j = 0; j < ids.length; j++) all.push(ids[j]);
    });
    var mandatoryAt = all.length;
    P.mandatory.forEach(function (id) { all.push(id); });
    var d = await digestsOf(prefix, all, progress);
    mark('tickets');
    wanted.forEach(function (w) {
      var ids = w[3], dd = d.slice(w[2], w[2] + ids.length), idx = order(dd, ids);
      for (var j = 0; j < w[1]; j++) chosen.push({ digest: dd[idx[j]], id: ids[idx[j]], stratum: w[0] });
    });
    P.mandatory.forEach(function (id, j) { chosen.push({ digest: d[mandatoryAt + j], id: id, stratum: null }); });
    chosen.sort(function (a, b) { return cmpBytes(a.digest, b.digest) || cmpText(a.id, b.id); });
    var ids_ = chosen.map(function (c) { return c.id; });
    var uniq = Array.from(new Set(ids_));
    var both = await Promise.all([rankings(seed, 'inspector', uniq, inspectors, progress),
      P.expertCount > 0 ? rankings(seed, 'expert', uniq, experts, progress) : null]);
    var rankI = both[0], rankE = both[1];
    mark('rankings');
    var teams = assign(ids_, rankI, P.teamSize, P.inspectorCap, P.conflicts.inspector, '执法人员');
    var panels = P.expertCount > 0 ? assign(ids_, rankE, P.expertCount, P.expertCap, P.conflicts.expert, '专家')
      : ids_.map(function () { return []; });
    return {
      selected: chosen.map(function (c, j) {
        return { id: c.id, stratum: c.stratum, mandatory: c.stratum === null, ticket: hexOf(c.digest),
          inspectors: teams[j], experts: panels[j] };
      }),
      rank: { inspector: rankI, expert: rankE }
    };
  }

  // ------------------------------------------------------------------------------------------
  // Section 9: the checks, one by one (the same list and order as `dsj-desktop verify`)

  async function verifyRecord(r, opts) {
    opts = opts || {};
    var progress = opts.progress || function () {};
    var checks = [];
    function add(name, ok, detail) { checks.push({ name: name, ok: !!ok, detail: detail }); }
    var marks = opts.marks;
    function mark(label) { if (marks) marks.push([label, performance.now()]); }
    var info = { session: isStr(r.session) ? r.session : null, status: isStr(r.status) ? r.status : null,
      fingerprint: null, engine: null };

    add('规范版本', r.spec === SPEC, r.spec === SPEC ? SPEC : '应为 ' + SPEC + '，记录中为 ' + show(r.spec));

    // -- structure
    var problems = [];
    var missing = REQUIRED.filter(function (k) { return !(k in r); });
    if (missing.length) problems.push('缺少成员 ' + missing.join('、'));
    ['session', 'status', 'commitment'].forEach(function (k) {
      if (k in r && !isStr(r[k])) problems.push('“' + k + '”应为文本');
    });
    ['task', 'params', 'hashes', 'signature'].forEach(function (k) {
      if (k in r && !isObj(r[k])) problems.push('“' + k + '”应为 JSON 对象');
    });
    ['nonce', 'seed'].forEach(function (k) {
      if (k in r && !(r[k] === null || isStr(r[k]))) problems.push('“' + k + '”应为文本或 null');
    });
    if (isStr(r.status) && r.status !== 'confirmed' && r.status !== 'voided') problems.push('状态“' + show(r.status) + '”无效（应为 confirmed 或 voided）');
    if (r.status === 'voided' && !(isStr(r.void_reason) && r.void_reason.trim())) problems.push('作废的记录没有写明作废原因（void_reason）');
    if (r.status === 'confirmed') {
      ['nonce', 'seed'].forEach(function (k) { if (r[k] === undefined || r[k] === null) problems.push('已确认的抽取缺少“' + k + '”'); });
    }
    function rows(key, fields) {
      var list = r[key];
      if (!Array.isArray(list)) { problems.push('“' + key + '”应为列表'); return null; }
      var cols = fields.map(function () { return new Array(list.length); });
      for (var n = 0; n < list.length; n++) {
        var row = list[n];
        if (!isObj(row)) { problems.push('“' + key + '”的每一项都应为含 ' + fields.join('、') + ' 的对象'); return null; }
        for (var f = 0; f < fields.length; f++) {
          var v = row[fields[f]];
          if (v === undefined) { problems.push('“' + key + '”的每一项都应为含 ' + fields.join('、') + ' 的对象'); return null; }
          if (!isStr(v)) { problems.push('“' + key + '”中的 ' + fields.join('、') + ' 应为文本'); return null; }
          cols[f][n] = v;
        }
      }
      return cols;
    }
    var tcols = rows('targets', ['id', 'stratum']);
    var icols = rows('inspectors', ['id']);
    var ecols = rows('experts', ['id']);
    var wcols = rows('witnesses', ['name', 'digits']);
    var inspectors = icols && icols[0], experts = ecols && ecols[0];
    var selected = null;
    if (!Array.isArray(r.selected)) problems.push('“selected”应为列表');
    else {
      selected = r.selected;
      for (var n = 0; n < selected.length; n++) {
        var it = selected[n];
        if (!(isObj(it) && isStr(it.id) && (it.stratum === null || it.stratum === undefined || isStr(it.stratum)) &&
          typeof it.mandatory === 'boolean' && isStr(it.ticket) && Array.isArray(it.inspectors) &&
          it.inspectors.every(isStr) && Array.isArray(it.experts) && it.experts.every(isStr))) {
          problems.push('“selected”第 ' + (n + 1) + ' 项应含 id、stratum、mandatory、ticket、inspectors、experts');
          selected = null;
          break;
        }
      }
    }
    var subs = null;
    if (!Array.isArray(r.substitutions)) problems.push('“substitutions”应为列表');
    else {
      subs = [];
      for (var q = 0; q < r.substitutions.length; q++) {
        var s = r.substitutions[q];
        var okShape = isObj(s) && ['target', 'removed', 'reason', 'skipped', 'substitute'].every(function (k) { return s[k] !== undefined; }) &&
          Array.isArray(s.skipped) && s.skipped.every(function (x) { return isObj(x) && x.id !== undefined && x.reason !== undefined; });
        if (!okShape) { problems.push('“substitutions”第 ' + (q + 1) + ' 项应含 target、removed、reason、skipped、substitute'); subs = null; break; }
        var kind = s.kind === undefined ? 'inspector' : s.kind;
        var texts = [s.target, s.removed, s.reason, s.substitute];
        s.skipped.forEach(function (x) { texts.push(x.id, x.reason); });
        if (!texts.every(isStr) || (kind !== 'inspector' && kind !== 'expert')) {
          problems.push('“substitutions”第 ' + (q + 1) + ' 项的内容应为文本'); subs = null; break;
        }
        subs.push({ target: s.target, removed: s.removed, kind: kind, substitute: s.substitute,
          unavailable: new Set(s.skipped.map(function (x) { return x.id; })) });
      }
    }
    add('记录结构', !problems.length, problems.length ? limited(problems) : '成员齐全，格式正确');
    mark('structure');
    if (problems.length) {
      await signatureCheck(r, opts.fingerprint, add, info);
      return { checks: checks, info: info };
    }

    // -- the four hashes (section 2)
    var hashes = isObj(r.hashes) ? r.hashes : Object.create(null);
    var computed = {};
    var groups = null, sortedIds = null;
    async function hashCheck(key, title, fn) {
      var value;
      try {
        value = await fn();
      } catch (e) {
        if (!(e instanceof DrawProblem || e instanceof CanonProblem)) throw e;
        computed[key] = null;
        add(title, false, '无法重算：' + e.message);
        return;
      }
      computed[key] = value;
      if (value === hashes[key]) add(title, true, value);
      else add(title, false, '按记录中的名单重算为 ' + value + '，记录中为 ' + show(hashes[key]));
    }
    await hashCheck('targets', '检查对象名单摘要', async function () {
      var ids = tcols[0], strata = tcols[1];
      var idx = ids.map(function (_, k) { return k; });
      idx.sort(function (a, b) { return cmpText(ids[a], ids[b]); });
      var parts = new Array(idx.length);
      for (var k = 0; k < idx.length; k++) {
        if (k && ids[idx[k]] === ids[idx[k - 1]]) throw new DrawProblem('检查对象“' + show(ids[idx[k]]) + '”在候选名单中重复出现。');
        parts[k] = ids[idx[k]] + SEP + strata[idx[k]] + LF;
      }
      sortedIds = idx.map(function (k) { return ids[k]; });
      groups = new Map();
      for (var m = 0; m < idx.length; m++) {
        var st = strata[idx[m]];
        if (!groups.has(st)) groups.set(st, []);
        groups.get(st).push(ids[idx[m]]);
      }
      return H(parts.join(''));
    });
    function people(list, who) {
      return async function () {
        var sorted = list.slice().sort(cmpText);
        for (var k = 1; k < sorted.length; k++) {
          if (sorted[k] === sorted[k - 1]) throw new DrawProblem(who + '名单中有重复的代码“' + show(sorted[k]) + '”');
        }
        return H(sorted.length ? sorted.join(LF) + LF : '');
      };
    }
    await hashCheck('inspectors', '执法人员名单摘要', people(inspectors, '执法人员'));
    await hashCheck('experts', '专家名单摘要', people(experts, '专家'));
    await hashCheck('params', '抽取参数摘要', function () { return H(canonical(r.params)); });
    mark('hashes');
    var allHashes = ['targets', 'inspectors', 'experts', 'params'].every(function (k) { return computed[k] !== null; });

    // -- commitment (section 3)
    var voided = r.status === 'voided';
    if (r.nonce === null) {
      if (voided) add('承诺值', true, '作废于揭示随机数之前，随机数未公开（承诺值 ' + r.commitment + '）');
      else add('承诺值', false, '记录中没有随机数（nonce），无法核对承诺值');
    } else {
      var hn = await H(r.nonce);
      if (hn === r.commitment) add('承诺值', true, 'H(随机数 ' + r.nonce + ') = 抽取前公布的承诺值 ' + r.commitment);
      else add('承诺值', false, 'H(随机数 ' + r.nonce + ') = ' + hn + '，与承诺值 ' + show(r.commitment) + ' 不符');
    }

    // -- witnesses
    var needed = r.seed !== null || r.status === 'confirmed';
    var names = wcols[0], digits = wcols[1];
    var bad = [];
    var totalDigits = 0;
    digits.forEach(function (d, k) {
      totalDigits += d.length;
      if (!/^[0-9]+$/.test(d)) bad.push('见证人“' + show(names[k]) + '”的“' + show(d) + '”不全是半角数字');
    });
    if (needed && totalDigits < MIN_DIGITS) bad.push('共 ' + totalDigits + ' 位，少于 ' + MIN_DIGITS + ' 位');
    var witnessOk = !bad.length;
    if (bad.length) add('见证人数字', false, limited(bad));
    else if (needed) add('见证人数字', true, names.length + ' 位见证人共给出 ' + totalDigits + ' 位数字');
    else add('见证人数字', true, '作废于揭示之前（不适用）；已记录 ' + names.length + ' 位见证人的 ' + totalDigits + ' 位数字');

    // -- seed (section 4)
    var seed = null;
    if (r.seed === null) {
      if (voided) add('随机种子', true, '作废于揭示之前，没有随机种子（不适用）');
      else add('随机种子', false, '记录中没有随机种子');
    } else if (!allHashes || !witnessOk || !isStr(r.session) || !isStr(r.nonce)) {
      add('随机种子', false, '上面的项目有误，无法重算随机种子');
    } else {
      seed = await H([SPEC, r.session, computed.targets, computed.inspectors, computed.experts, computed.params]
        .concat(digits, [r.nonce]).join(SEP));
      if (seed === r.seed) add('随机种子', true, seed);
      else add('随机种子', false, '按记录中的数据应为 ' + seed + '，记录中为 ' + show(r.seed));
    }

    // -- quotas and parameters (sections 2, 7)
    var P = null;
    try {
      P = readParams(r.params, inspectors.length, experts.length);
    } catch (e) {
      if (!(e instanceof DrawProblem)) throw e;
      add('抽取数量与参数', false, e.message);
    }
    if (P) {
      var pp = [];
      var label = function (s) { return s === '' ? '（未分层）' : '“' + show(s) + '”'; };
      P.quotas.forEach(function (k, s) {
        var size = groups && groups.has(s) ? groups.get(s).length : null;
        if (size === null) pp.push('分层' + label(s) + '在检查对象名单中不存在');
        else if (k > size) pp.push('分层' + label(s) + '只有 ' + size + ' 个对象，参数却要抽 ' + k + ' 个');
      });
      var cand = new Set(sortedIds || []);
      P.mandatory.forEach(function (id) { if (cand.has(id)) pp.push('必查对象“' + show(id) + '”同时在候选名单中'); });
      if (selected.length) {
        var drawn = new Map();
        selected.forEach(function (x) {
          if (!x.mandatory) { var st = x.stratum === undefined ? null : x.stratum; drawn.set(st, (drawn.get(st) || 0) + 1); }
        });
        var seen = new Set(drawn.keys());
        P.quotas.forEach(function (k, s) { if (k > 0) seen.add(s); });
        seen.forEach(function (s) {
          var want = isStr(s) ? (P.quotas.get(s) || 0) : 0;
          var got = drawn.get(s) || 0;
          if (got !== want) pp.push('分层' + (isStr(s) ? label(s) : '（无）') + '应抽 ' + want + ' 个，记录中抽中 ' + got + ' 个');
        });
        var marked = selected.filter(function (x) { return x.mandatory; }).map(function (x) { return x.id; }).sort(cmpText);
        var want = P.mandatory.slice().sort(cmpText);
        if (marked.join(SEP) !== want.join(SEP) || marked.length !== want.length) {
          pp.push('必查对象应为 ' + want.length + ' 个，记录中标为必查的有 ' + marked.length + ' 个');
        }
      }
      if (pp.length) add('抽取数量与参数', false, limited(pp));
      else {
        var nStrata = 0, sum = 0;
        P.quotas.forEach(function (k) { if (k > 0) nStrata++; sum += k; });
        add('抽取数量与参数', true, nStrata + ' 个分层共抽 ' + sum + ' 个，必查 ' + P.mandatory.length + ' 个；每组 ' +
          P.teamSize + ' 人（每人最多 ' + P.inspectorCap + ' 个对象），专家每个对象 ' + P.expertCount + ' 人');
      }
    }

    // -- selection, teams, experts (section 5)
    mark('commitment, seed, parameters');
    var titles = ['抽中对象', '执法人员分组', '专家分配'];
    var expected = null, ranks = null;
    if (r.seed === null && voided) {
      titles.forEach(function (t) {
        add(t, !selected.length, !selected.length ? '作废于揭示之前，没有抽取结果（不适用）' : '没有随机种子却列有抽取结果');
      });
    } else if (seed === null || P === null || groups === null) {
      titles.forEach(function (t) { add(t, false, '上面的项目有误，无法重算'); });
    } else {
      try {
        var got_ = await recompute(seed, groups, inspectors, experts, P, progress, mark);
        expected = got_.selected;
        ranks = got_.rank;
      } catch (e) {
        if (!(e instanceof DrawProblem)) throw e;
        titles.forEach(function (t) { add(t, false, '无法重算：' + e.message); });
      }
    }
    if (expected) {
      var sp = [];
      if (selected.length !== expected.length) sp.push('应抽中 ' + expected.length + ' 个对象，记录中有 ' + selected.length + ' 个');
      for (var z = 0; z < Math.min(selected.length, expected.length); z++) {
        var e_ = expected[z], g = selected[z];
        if (e_.id !== g.id) { sp.push('第 ' + (z + 1) + ' 个抽中对象应为“' + e_.id + '”，记录中为“' + show(g.id) + '”'); continue; }
        var gs = g.stratum === undefined ? null : g.stratum;
        if (e_.stratum !== gs) sp.push('对象“' + e_.id + '”的分层应为“' + (e_.stratum === null ? '无（必查）' : e_.stratum) + '”，记录中为“' + (gs === null ? '无' : show(gs)) + '”');
        if (e_.mandatory !== g.mandatory) sp.push('对象“' + e_.id + '”的必查标记应为 ' + e_.mandatory + '，记录中为 ' + g.mandatory);
        if (e_.ticket !== g.ticket) sp.push('对象“' + e_.id + '”的签值应为 ' + e_.ticket + '，记录中为 ' + show(g.ticket));
      }
      if (sp.length) add('抽中对象', false, limited(sp));
      else add('抽中对象', true, expected.length + ' 个对象及其签值、顺序与重算结果一致');
      var byId = new Map();
      selected.forEach(function (x) { byId.set(x.id, x); });
      [['执法人员分组', 'inspectors', '检查组'], ['专家分配', 'experts', '专家']].forEach(function (spec) {
        var diffs = [], total = 0;
        expected.forEach(function (x) {
          total += x[spec[1]].length;
          var item = byId.get(x.id);
          if (!item) return; // reported under 抽中对象
          var want = x[spec[1]], have = item[spec[1]];
          if (want.length !== have.length) diffs.push('对象“' + x.id + '”的' + spec[2] + '应有 ' + want.length + ' 人，记录中为 ' + have.length + ' 人');
          for (var k = 0; k < Math.min(want.length, have.length); k++) {
            if (want[k] !== have[k]) diffs.push('对象“' + x.id + '”的' + spec[2] + '第 ' + (k + 1) + ' 名应为“' + want[k] + '”，记录中为“' + show(have[k]) + '”');
          }
        });
        if (diffs.length) add(spec[0], false, limited(diffs));
        else add(spec[0], true, total ? '共 ' + total + ' 人次，与重算结果一致' : '本次不分配（0 人）');
      });
    }

    mark('selection and teams');
    // -- substitutions (section 6)
    if (!subs.length) add('递补', true, '没有递补');
    else if (!expected) add('递补', false, '没有可重算的抽取结果，无法重放递补');
    else {
      var teamsNow = new Map();
      expected.forEach(function (x) { teamsNow.set(x.id, { inspector: x.inspectors.slice(), expert: x.experts.slice() }); });
      var removedBefore = new Map();
      var pools = { inspector: inspectors, expert: experts };
      var subProblems = [];
      for (var w = 0; w < subs.length; w++) {
        var req = subs[w];
        var who = req.kind === 'inspector' ? '执法人员' : '专家';
        var teams = teamsNow.get(req.target);
        if (!teams) { subProblems.push('第 ' + (w + 1) + ' 次递补无法重放：对象“' + show(req.target) + '”不在本次抽中的名单中'); break; }
        var team = teams[req.kind];
        var at = team.indexOf(req.removed);
        if (at < 0) { subProblems.push('第 ' + (w + 1) + ' 次递补无法重放：“' + show(req.removed) + '”不在对象“' + show(req.target) + '”当前的' + who + '中'); break; }
        var hk = req.kind + SEP + req.target;
        if (!removedBefore.has(hk)) removedBefore.set(hk, new Set());
        var history = removedBefore.get(hk);
        var banned = P.conflicts[req.kind].get(req.target) || new Set();
        var ranking = ranks[req.kind] && ranks[req.kind].get(req.target);
        if (!ranking) ranking = (await rankings(seed, req.kind, [req.target], pools[req.kind])).get(req.target);
        var sub = null;
        for (var y = 0; y < ranking.length; y++) {
          var cand_ = ranking[y];
          if (team.indexOf(cand_) < 0 && !history.has(cand_) && !banned.has(cand_) && !req.unavailable.has(cand_)) { sub = cand_; break; }
        }
        if (sub === null) { subProblems.push('第 ' + (w + 1) + ' 次递补无法重放：对象“' + show(req.target) + '”已没有可以递补的' + who); break; }
        team[at] = sub;
        history.add(req.removed);
        if (sub !== req.substitute) {
          subProblems.push('第 ' + (w + 1) + ' 次递补（对象“' + req.target + '”，替换“' + req.removed + '”）的递补人员应为“' + sub + '”，记录中为“' + show(req.substitute) + '”');
        }
      }
      if (subProblems.length) add('递补', false, limited(subProblems));
      else add('递补', true, subs.length + ' 次递补逐一重放，递补人员一致');
    }

    // -- earlier attempts
    var prev = r.previous;
    if (!Array.isArray(prev)) add('此前的抽取', false, '“previous”应为列表');
    else if (!prev.length) add('此前的抽取', true, '无（本任务第一次抽取）');
    else {
      var pprob = [], notes = [];
      for (var v = 0; v < prev.length; v++) {
        var p = prev[v];
        if (!isObj(p) || !isStr(p.commitment)) { pprob.push('第 ' + (v + 1) + ' 项格式有误'); continue; }
        var what = '场次 ' + show(p.session) + '（' + show(p.status) + '：' + show(p.reason) + '）';
        if (isStr(p.nonce_revealed)) {
          if ((await H(p.nonce_revealed)) !== p.commitment) { pprob.push('第 ' + (v + 1) + ' 项（场次 ' + show(p.session) + '）公开的随机数与其承诺值不符'); continue; }
          notes.push(what + '，随机数与承诺值相符');
        } else notes.push(what + '，随机数未公开');
      }
      if (pprob.length) add('此前的抽取', false, limited(pprob));
      else add('此前的抽取', true, '共 ' + prev.length + ' 次：' + notes.join('；'));
    }

    mark('substitutions, previous');
    await signatureCheck(r, opts.fingerprint, add, info);
    mark('signature');
    return { checks: checks, info: info };
  }

  async function signatureCheck(r, wanted, add, info) {
    var sig = r.signature;
    if (!isObj(sig)) { add('签名', false, '记录没有签名'); return; }
    if (sig.alg !== 'Ed25519') { add('签名', false, '签名算法应为 Ed25519，记录中为 ' + show(sig.alg)); return; }
    var pk = fromHex(sig.public_key), value = fromHex(sig.value);
    if (!pk || !value) { add('签名', false, '签名的公钥或签名值不是十六进制文本'); return; }
    if (pk.length !== 32 || value.length !== 64) { add('签名', false, '公钥应为 32 字节、签名值应为 64 字节'); return; }
    info.fingerprint = groupHex(hexOf(await sha256Bytes(pk)));
    var unsigned = Object.create(null);
    Object.keys(r).forEach(function (k) { if (k !== 'signature') unsigned[k] = r[k]; });
    var message;
    try {
      message = utf8.encode(canonical(unsigned));
    } catch (e) {
      if (!(e instanceof CanonProblem)) throw e;
      add('签名', false, '记录不是规范 JSON：' + e.message);
      return;
    }
    var ok = await ed25519Verify(pk, value, message);
    info.engine = ed25519Engine;
    if (ok) add('签名', true, 'Ed25519 签名有效；公钥指纹 ' + info.fingerprint + '（请与本局公布的指纹核对）');
    else add('签名', false, '签名无效：记录在签名之后被改动过（或签名不属于这份记录）');
    if (wanted !== undefined && wanted !== null && String(wanted).trim() !== '') {
      var want = String(wanted).toUpperCase().replace(/[ :\-\t]/g, '');
      var same = want === info.fingerprint.replace(/ /g, '');
      add('公钥指纹', same, same ? '与给定的指纹一致' : '签名公钥指纹为 ' + info.fingerprint + '，与给定的指纹不同');
    }
  }

  // ------------------------------------------------------------------------------------------
  // Reading a file: the JSON record, or the record attached to the record PDF

  function latin1(bytes) {
    var CH = 0x8000, parts = [];
    for (var k = 0; k < bytes.length; k += CH) parts.push(String.fromCharCode.apply(null, bytes.subarray(k, k + CH)));
    return parts.join('');
  }

  function pdfString(s) {
    // a literal string body (without parentheses) -> bytes -> text (UTF-16BE with BOM, else PDFDocEncoding≈latin1)
    var out = [];
    for (var k = 0; k < s.length; k++) {
      var c = s.charAt(k);
      if (c !== '\\') { out.push(s.charCodeAt(k) & 255); continue; }
      var e = s.charAt(++k);
      var map = { n: 10, r: 13, t: 9, b: 8, f: 12, '(': 40, ')': 41, '\\': 92 };
      if (e in map) out.push(map[e]);
      else if (/[0-7]/.test(e)) {
        var oct = e;
        while (oct.length < 3 && /[0-7]/.test(s.charAt(k + 1))) oct += s.charAt(++k);
        out.push(parseInt(oct, 8) & 255);
      } else if (e === '\r' || e === '\n') {
        if (e === '\r' && s.charAt(k + 1) === '\n') k++;
      } else out.push(s.charCodeAt(k) & 255);
    }
    if (out[0] === 0xFE && out[1] === 0xFF) {
      var t = '';
      for (var m = 2; m + 1 < out.length; m += 2) t += String.fromCharCode(out[m] * 256 + out[m + 1]);
      return t;
    }
    return String.fromCharCode.apply(null, out);
  }

  function pdfHexString(s) {
    var h = s.replace(/\s/g, '');
    if (h.length % 2) h += '0';
    var b = fromHex(h) || new Uint8Array(0);
    if (b[0] === 0xFE && b[1] === 0xFF) {
      var t = '';
      for (var m = 2; m + 1 < b.length; m += 2) t += String.fromCharCode(b[m] * 256 + b[m + 1]);
      return t;
    }
    return String.fromCharCode.apply(null, b);
  }

  async function inflate(data) {
    if (typeof DecompressionStream === 'undefined') {
      throw new InputProblem('本浏览器不支持解压缩（DecompressionStream），无法从 PDF 中取出记录。请换用新版浏览器，' +
        '或先用 PDF 阅读器把附件（.json）另存出来，再把 .json 文件拖到这里。');
    }
    var ds = new DecompressionStream('deflate');
    var writer = ds.writable.getWriter();
    writer.write(data).catch(function () {});
    writer.close().catch(function () {});
    var reader = ds.readable.getReader();
    var chunks = [], total = 0;
    try {
      while (true) {
        var part = await reader.read();
        if (part.done) break;
        total += part.value.length;
        if (total > MAX_INFLATED) {
          reader.cancel().catch(function () {});
          throw new InputProblem('PDF 附件解压后超过 ' + (MAX_INFLATED >> 20) + ' MB，不是正常的抽取记录。');
        }
        chunks.push(part.value);
      }
    } catch (e) {
      if (e instanceof InputProblem) throw e;
      throw new InputProblem('PDF 中附带的记录数据已损坏，无法解压（文件可能不完整或被改动过）。');
    }
    var out = new Uint8Array(total), at = 0;
    chunks.forEach(function (c) { out.set(c, at); at += c.length; });
    return out;
  }

  /** The files attached to a PDF: [{name, bytes}] (the last version of each object wins). */
  async function pdfAttachments(bytes, name) {
    var text = latin1(bytes);
    var objects = new Map(); // "n g" -> offset of the object's body (last definition wins)
    var OBJ = /(\d+)\s+(\d+)\s+obj\b/g, m;
    while ((m = OBJ.exec(text))) objects.set(m[1] + ' ' + m[2], OBJ.lastIndex);
    var budget = 4 * text.length + (1 << 20); // characters all dictionaries may cost together
    function dictAt(start) {
      // the text of the dictionary right after "obj" (never a search through the file), with
      // nested << >> balanced, at most 64 KB long
      DICT_START.lastIndex = start;
      if (!DICT_START.test(text)) return null;
      var open = DICT_START.lastIndex - 2;
      var limit = Math.min(text.length, open + (1 << 16));
      var depth = 0, k = open;
      budget -= limit - open;
      if (budget < 0) throw new InputProblem('PDF“' + name + '”的结构异常（对象过多或相互嵌套），不是本程序生成的抽取记录 PDF。');
      while (k < limit) {
        var ch = text.charCodeAt(k);
        if (ch === 60 && text.charCodeAt(k + 1) === 60) { depth++; k += 2; continue; } // <<
        if (ch === 62 && text.charCodeAt(k + 1) === 62) { // >>
          depth--; k += 2;
          if (!depth) return { body: text.slice(open, k), end: k };
          continue;
        }
        if (ch === 60) { // a hex string
          var close = text.indexOf('>', k);
          if (close < 0 || close >= limit) return null;
          k = close + 1;
          continue;
        }
        if (ch === 40) { // a literal string, with nested parentheses and escapes
          var lvl = 0;
          for (; k < limit; k++) {
            var c = text.charCodeAt(k);
            if (c === 92) { k++; continue; }
            if (c === 40) lvl++;
            else if (c === 41 && --lvl === 0) break;
          }
        }
        k++;
      }
      return null;
    }
    function intValue(ref) {
      var at = objects.get(ref);
      if (at === undefined) return null;
      var mm = /^\s*(\d+)\s+endobj/.exec(text.slice(at, at + 64));
      return mm ? Number(mm[1]) : null;
    }
    var DICT_START = /\s{0,64}<</y;
    var files = new Map(); // "n g" -> {bytes}
    var streams = 0;
    var names = new Map(); // "n g" of the embedded stream -> name
    var errors = [];
    var entries = Array.from(objects.entries());
    for (var n = 0; n < entries.length; n++) {
      var ref = entries[n][0], at = entries[n][1];
      var d = dictAt(at);
      if (!d) continue;
      var body = d.body;
      if (/\/Type\s*\/Filespec\b/.test(body)) {
        var ef = /\/EF\s*<<([\s\S]*?)>>/.exec(body);
        var target = ef && /\/(?:UF|F)\s+(\d+)\s+(\d+)\s+R/.exec(ef[1]);
        var nm = /\/UF\s*\(((?:\\[\s\S]|[^\\)])*)\)/.exec(body) || /\/F\s*\(((?:\\[\s\S]|[^\\)])*)\)/.exec(body);
        var nmh = nm ? null : (/\/UF\s*<([0-9a-fA-F\s]*)>/.exec(body) || /\/F\s*<([0-9a-fA-F\s]*)>/.exec(body));
        if (target) names.set(target[1] + ' ' + target[2], nm ? pdfString(nm[1]) : (nmh ? pdfHexString(nmh[1]) : ''));
        continue;
      }
      if (!/\/Type\s*\/EmbeddedFile\b/.test(body)) continue;
      if (++streams > 50) throw new InputProblem('PDF“' + name + '”中的附件多得不正常（超过 50 个），不是本程序生成的抽取记录 PDF。');
      var sm = /^\s*stream\r?\n/.exec(text.slice(d.end, d.end + 16));
      if (!sm) { errors.push('附件对象没有数据流'); continue; }
      var start = d.end + sm[0].length;
      var lenM = /\/Length\s+(\d+)(\s+(\d+)\s+R)?/.exec(body);
      var length = null;
      if (lenM) length = lenM[2] ? intValue(lenM[1] + ' ' + lenM[3]) : Number(lenM[1]);
      if (length === null || start + length > bytes.length) {
        var endAt = text.indexOf('endstream', start);
        if (endAt < 0) { errors.push('附件数据不完整'); continue; }
        length = endAt - start;
        while (length > 0 && (bytes[start + length - 1] === 10 || bytes[start + length - 1] === 13)) length--;
      }
      var raw = bytes.subarray(start, start + length);
      var filter = /\/Filter\s*(\[\s*)?\/(\w+)/.exec(body);
      var data;
      if (!filter) data = raw;
      else if (filter[2] === 'FlateDecode') {
        if (/\/DecodeParms/.test(body)) { errors.push('附件使用了不支持的压缩参数'); continue; }
        data = await inflate(raw);
      } else { errors.push('附件使用了不支持的压缩方式 ' + filter[2]); continue; }
      files.set(ref, data);
    }
    var out = [];
    files.forEach(function (data, ref) { out.push({ name: names.get(ref) || '', bytes: data }); });
    if (!out.length) {
      throw new InputProblem('在 PDF“' + name + '”中没有找到附带的抽取记录' + (errors.length ? '（' + errors[0] + '）' : '') +
        '。本程序生成的抽取记录 PDF 都附有“场次编号.json”；这个 PDF 可能不是抽取记录、已损坏或不完整。');
    }
    return out;
  }

  function decodeJSONBytes(bytes, name) {
    var text;
    try {
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
    } catch (e) {
      throw new InputProblem('文件“' + name + '”不是 UTF-8 编码的 JSON 文本，不是抽取记录。');
    }
    var record = parseJSON(text, name);
    if (!isObj(record)) throw new InputProblem('文件“' + name + '”不是抽取记录：最外层应为 JSON 对象。');
    if (record.spec !== SPEC) {
      throw new InputProblem('文件“' + name + '”不是 ' + SPEC + ' 抽取记录（' + (record.spec === undefined ? '没有 spec 字段' : 'spec 为“' + show(record.spec) + '”') + '）。');
    }
    return record;
  }

  function isPdf(bytes) {
    var headText = latin1(bytes.subarray(0, 1024));
    return headText.indexOf('%PDF-') >= 0;
  }

  async function readRecord(bytes, name) {
    if (bytes.length > MAX_BYTES) {
      throw new InputProblem('文件“' + name + '”有 ' + (bytes.length / 1048576).toFixed(1) + ' MB，超过本页面能核验的 ' +
        (MAX_BYTES >> 20) + ' MB 上限。抽取记录（.json 或 .pdf）通常只有几 MB：请确认选对了文件；特别大的记录请用 dsj-desktop verify 核验。');
    }
    if (!bytes.length) throw new InputProblem('文件“' + name + '”是空的，不是抽取记录。');
    if (isPdf(bytes)) {
      var atts = await pdfAttachments(bytes, name);
      var lastProblem = null;
      for (var k = 0; k < atts.length; k++) {
        try {
          return { record: decodeJSONBytes(atts[k].bytes, atts[k].name || '附件'), pdf: { attachment: atts[k].name, count: atts.length } };
        } catch (e) {
          if (!(e instanceof InputProblem)) throw e;
          lastProblem = e;
        }
      }
      throw new InputProblem('PDF“' + name + '”的附件中没有 DSJ-DRAW-1 抽取记录：' + lastProblem.message);
    }
    var first = bytes[0] === 0xEF ? 3 : 0;
    while (first < bytes.length && (bytes[first] === 32 || bytes[first] === 10 || bytes[first] === 13 || bytes[first] === 9)) first++;
    if (bytes[first] !== 0x7B) { // not "{": say so at once, without decoding a large file
      var lower = name.toLowerCase();
      if (lower.endsWith('.pdf')) {
        throw new InputProblem('文件“' + name + '”的扩展名是 .pdf，但内容不是 PDF（文件可能已损坏或不完整）。');
      }
      throw new InputProblem('文件“' + name + '”不是抽取记录：抽取记录是以“{”开头的 JSON 文件（场次编号.json），或附有它的抽取记录 PDF。');
    }
    return { record: decodeJSONBytes(bytes, name), pdf: null };
  }

  /** Check a file; never rejects for a bad file (the message is in `error`). */
  async function dsjVerify(bytes, filename, options) {
    options = options || {};
    var name = filename || '文件';
    var started = performance.now();
    try {
      if (!(bytes instanceof Uint8Array)) bytes = new Uint8Array(bytes);
      needCrypto();
      if (typeof BigInt === 'undefined') throw new InputProblem('本浏览器版本过旧（不支持 BigInt），请换用新版浏览器。');
      var marks = options.timings ? [['start', started]] : null;
      var got = await readRecord(bytes, name);
      if (marks) marks.push(['read and parse', performance.now()]);
      var done = 0, total = 0;
      var rec = got.record;
      if (Array.isArray(rec.targets)) total += rec.targets.length;
      var progress = function (n) {
        done += n;
        if (options.onProgress) options.onProgress(done, total);
      };
      var result = await verifyRecord(rec, { fingerprint: options.fingerprint, progress: progress, marks: marks });
      var checks = result.checks;
      if (got.pdf) {
        var want = (isStr(rec.session) ? rec.session : String(rec.session)) + '.json';
        var same = got.pdf.attachment === want;
        checks.push({ name: 'PDF 附件', ok: same, detail: same ? '附件“' + want + '”即本场次的记录（PDF 签章本身请用 dsj-desktop verify 或 PDF 阅读器核验）'
          : '附件名为“' + show(got.pdf.attachment) + '”，应为“' + show(want) + '”' });
      }
      return {
        ok: checks.length > 0 && checks.every(function (c) { return c.ok; }),
        checks: checks,
        error: null,
        session: result.info.session,
        status: result.info.status,
        fingerprint: result.info.fingerprint,
        engine: result.info.engine,
        pdf: got.pdf ? { attachment: got.pdf.attachment } : null,
        ms: Math.round(performance.now() - started),
        timings: marks ? marks.slice(1).map(function (m, k) { return [m[0], Math.round(m[1] - marks[k][1])]; }) : undefined,
        record: options.keepRecord ? rec : undefined
      };
    } catch (e) {
      var msg = (e instanceof InputProblem || e instanceof DrawProblem || e instanceof CanonProblem) ? e.message
        : '核验时出现意外错误：' + (e && e.message ? e.message : String(e)) + '。请用 dsj-desktop verify 核验，并把此文件交给技术人员。';
      return { ok: false, checks: [], error: msg, session: null, status: null, fingerprint: null, engine: null,
        pdf: null, ms: Math.round(performance.now() - started) };
    }
  }

  window.dsjVerify = dsjVerify;
  window.dsjVerifyInternals = { parseJSON: parseJSON, canonical: canonical, cmpText: cmpText, isObj: isObj, show: show };
})();
