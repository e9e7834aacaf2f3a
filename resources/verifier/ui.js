/* The page around window.dsjVerify: choosing or dropping a file, the checklist, the record. */
(function () {
  'use strict';

  var $ = function (id) { return document.getElementById(id); };
  var current = null; // {bytes, name}
  var busy = false;

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (k) {
      if (k === 'text') e.textContent = attrs[k];
      else if (k === 'cls') e.className = attrs[k];
      else e.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c !== null && c !== undefined) e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return e;
  }
  function text(v) {
    if (v === null || v === undefined) return '';
    if (Array.isArray(v)) return v.map(text).join('、');
    if (typeof v === 'object') {
      if ('name' in v && 'code' in v) return text(v.code) + ' ' + text(v.name);
      return Object.keys(v).map(function (k) { return k + '：' + text(v[k]); }).join('；');
    }
    return String(v);
  }
  function table(headers, rows, cls) {
    return el('table', cls ? { cls: cls } : null, [
      el('thead', null, [el('tr', null, headers.map(function (h) { return el('th', { text: h }); }))]),
      el('tbody', null, rows.map(function (r) {
        return el('tr', null, r.map(function (c) {
          return c instanceof Node ? el('td', null, [c]) : el('td', { text: text(c) });
        }));
      }))
    ]);
  }
  function kv(pairs) {
    var dl = el('dl', { cls: 'kv' });
    pairs.forEach(function (p) {
      if (p[1] === undefined || p[1] === null || p[1] === '' || (Array.isArray(p[1]) && !p[1].length)) return;
      dl.appendChild(el('dt', { text: p[0] }));
      dl.appendChild(el('dd', { text: text(p[1]), cls: p[2] || '' }));
    });
    return dl;
  }
  function section(title, body) {
    return el('div', null, [el('h2', { text: title }), el('div', { cls: 'panel' }, body)]);
  }

  var TASK_FIELDS = [
    ['code', '任务编号'], ['name', '任务名称'], ['plan_code', '计划编号'], ['plan_name', '年度计划'],
    ['department', '实施部门'], ['partners', '联合部门'], ['draw_type', '抽取方式'], ['items', '抽查事项'],
    ['industries', '行业领域'], ['ratio', '抽查比例'], ['draw_date', '抽取日期'], ['place', '抽取地点'],
    ['start_date', '检查开始'], ['end_date', '检查截止'], ['operator', '操作人员'], ['rules', '抽取规则']
  ];

  function renderRecord(r, res) {
    var out = [];
    var names = new Map(), persons = new Map();
    (Array.isArray(r.targets) ? r.targets : []).forEach(function (t) { if (t && t.id) names.set(t.id, t.name); });
    (Array.isArray(r.mandatory_targets) ? r.mandatory_targets : []).forEach(function (t) { if (t && t.id) names.set(t.id, t.name); });
    (Array.isArray(r.inspectors) ? r.inspectors : []).forEach(function (p) { if (p && p.id) persons.set('i' + p.id, p); });
    (Array.isArray(r.experts) ? r.experts : []).forEach(function (p) { if (p && p.id) persons.set('e' + p.id, p); });
    function person(kind, id) {
      var p = persons.get(kind + id);
      return p && p.name ? p.name + '（' + id + '）' : String(id);
    }
    var task = (r.task && typeof r.task === 'object') ? r.task : {};
    var statusTitle = r.status === 'confirmed' ? '已确认' : (r.status === 'voided' ? '已作废' : String(r.status));
    out.push(section('抽取任务与场次', [kv(
      TASK_FIELDS.map(function (f) {
        var v = task[f[0]];
        return [f[1], Array.isArray(v) && f[0] === 'rules' ? v.map(text).join('；') : v];
      }).concat([
        ['场次编号', r.session], ['状态', statusTitle], ['作废原因', r.void_reason], ['记录版本', r.version],
        ['生成软件', r.software],
        ['候选对象', (Array.isArray(r.targets) ? r.targets.length : 0) + ' 个'],
        ['执法人员', (Array.isArray(r.inspectors) ? r.inspectors.length : 0) + ' 名'],
        ['专家', (Array.isArray(r.experts) ? r.experts.length : 0) + ' 名'],
        ['排除的对象', (Array.isArray(r.exclusions) ? r.exclusions.length : 0) + ' 个']
      ]))]));
    var ws = Array.isArray(r.witnesses) ? r.witnesses : [];
    out.push(section('见证人与随机数', [
      ws.length ? table(['序号', '见证人', '给出的数字'], ws.map(function (w, i) { return [String(i + 1), w && w.name, w && w.digits]; })) : el('p', { text: '（没有见证人记录）' }),
      el('div', { style: 'margin-top:10px' }, [kv([
        ['承诺值 C', r.commitment, 'mono'], ['随机数 N', r.nonce === null ? '（未揭示）' : r.nonce, 'mono'],
        ['随机种子', r.seed === null ? '（无）' : r.seed, 'mono'],
        ['对象名单摘要', r.hashes && r.hashes.targets, 'mono'], ['执法人员名单摘要', r.hashes && r.hashes.inspectors, 'mono'],
        ['专家名单摘要', r.hashes && r.hashes.experts, 'mono'], ['参数摘要', r.hashes && r.hashes.params, 'mono'],
        ['签名公钥指纹', res.fingerprint, 'mono']
      ])])
    ]));
    var sel = Array.isArray(r.selected) ? r.selected : [];
    var subsBy = new Map();
    (Array.isArray(r.substitutions) ? r.substitutions : []).forEach(function (s) {
      if (!s) return;
      var k = (s.kind || 'inspector') + '\x1f' + s.target;
      if (!subsBy.has(k)) subsBy.set(k, []);
      subsBy.get(k).push(s);
    });
    function after(kind, s) {
      var team = Array.isArray(s[kind === 'inspector' ? 'inspectors' : 'experts']) ? s[kind === 'inspector' ? 'inspectors' : 'experts'].slice() : [];
      (subsBy.get(kind + '\x1f' + s.id) || []).forEach(function (x) {
        var at = team.indexOf(x.removed);
        if (at >= 0) team[at] = x.substitute;
      });
      return team.map(function (id) { return person(kind === 'inspector' ? 'i' : 'e', id); }).join('、');
    }
    var hasExperts = sel.some(function (s) { return s && Array.isArray(s.experts) && s.experts.length; });
    var headers = ['序号', '统一社会信用代码', '名称', '分层', '检查组（递补后）'].concat(hasExperts ? ['专家'] : []).concat(['签值（前 16 位）']);
    out.push(section('抽中的检查对象（' + sel.length + ' 个，按分配顺序）', [
      sel.length ? table(headers, sel.map(function (s, i) {
        s = s || {};
        var row = [String(i + 1), el('span', { cls: 'mono code', text: text(s.id) }), names.get(s.id) || '',
          s.mandatory ? '必查' : (s.stratum === '' ? '（未分层）' : text(s.stratum)), after('inspector', s)];
        if (hasExperts) row.push(after('expert', s));
        row.push(el('span', { cls: 'mono code', text: typeof s.ticket === 'string' ? s.ticket.slice(0, 16) : '' }));
        return row;
      })) : el('p', { text: '（没有抽取结果）' })
    ]));
    var subs = Array.isArray(r.substitutions) ? r.substitutions : [];
    if (subs.length) {
      out.push(section('递补（' + subs.length + ' 次）', [table(['序号', '对象', '被替换', '原因', '声明不能参加', '递补人员', '时间', '操作人'],
        subs.map(function (s, i) {
          s = s || {};
          var k = s.kind === 'expert' ? 'e' : 'i';
          return [String(i + 1), (names.get(s.target) || '') + ' ' + text(s.target), person(k, s.removed), s.reason,
            (Array.isArray(s.skipped) ? s.skipped : []).map(function (x) { return person(k, x && x.id) + '：' + text(x && x.reason); }).join('；'),
            person(k, s.substitute), s.at, s.operator];
        }))]));
    }
    var prev = Array.isArray(r.previous) ? r.previous : [];
    if (prev.length) {
      out.push(section('此前的抽取（本任务）', [table(['场次', '状态', '原因', '承诺值', '随机数'],
        prev.map(function (p) {
          p = p || {};
          return [p.session, p.status === 'voided' ? '已作废' : p.status, p.reason, el('span', { cls: 'mono', text: text(p.commitment) }),
            typeof p.nonce_revealed === 'string' ? el('span', { cls: 'mono', text: p.nonce_revealed }) : '未公开'];
        }))]));
    }
    var ex = Array.isArray(r.exclusions) ? r.exclusions : [];
    if (ex.length) {
      var shown = ex.slice(0, 200);
      out.push(section('排除的对象（' + ex.length + ' 个）', [table(['统一社会信用代码', '原因'], shown.map(function (x) { return [x && x.id, x && x.reason]; })),
        ex.length > shown.length ? el('p', { cls: 'muted', text: '……只列出前 200 个。' }) : null]));
    }
    return out;
  }

  function render(res, name, record) {
    var verdict = $('verdict'), report = $('report'), note = $('pdfnote');
    report.textContent = '';
    note.style.display = 'none';
    if (res.error) {
      verdict.className = 'bad';
      verdict.textContent = '✘ 无法核验：' + res.error;
      return;
    }
    var failed = res.checks.filter(function (c) { return !c.ok; });
    verdict.textContent = '';
    if (res.ok && res.pdf) {
      verdict.className = 'ok';
      verdict.appendChild(document.createTextNode('✔ PDF 附带的抽取记录验证通过：' + res.checks.length +
        ' 项全部符合，与按 DSJ-DRAW-1 重算的结果一致，记录的签名有效。PDF 的电子签章本身未在本页面核验（见下方说明）。'));
    } else if (res.ok) {
      verdict.className = 'ok';
      verdict.appendChild(document.createTextNode('✔ 验证通过：' + res.checks.length + ' 项全部符合。这份记录与按 DSJ-DRAW-1 重算的结果一致，签名有效。'));
    }
    if (res.ok && !res.checks.some(function (c) { return c.name === '公钥指纹'; })) {
      verdict.appendChild(el('span', { cls: 'first', text: '请把签名公钥指纹 ' + res.fingerprint + ' 与本局公布的指纹核对（可填入上面的指纹框后点“重新核验”）。' }));
    }
    if (!res.ok) {
      verdict.className = 'bad';
      verdict.appendChild(document.createTextNode('✘ 验证不通过：' + failed.length + ' 项不符（' + failed.map(function (c) { return c.name; }).join('、') + '）。不能认定这是原始、完整的抽取记录。'));
      verdict.appendChild(el('span', { cls: 'first', text: '第一处不符——' + failed[0].name + '：' + failed[0].detail }));
    }
    if (res.pdf) {
      note.style.display = 'block';
      note.textContent = '这是 PDF 文件：本页面取出并核验了 PDF 附带的抽取记录“' + (res.pdf.attachment || '（无名称）') +
        '”（下列各项）。PDF 的电子签章本身（PDF 是否在签章后被改动、由谁签署）本页面不能核验，请用 dsj-desktop verify ' + name +
        ' 或 PDF 阅读器的签名面板核验。';
    }
    var rows = res.checks.map(function (c) {
      var tr = el('tr', { cls: c.ok ? 'ok' : 'bad' }, [
        el('td', { cls: 'mark', text: c.ok ? '✔' : '✘' }), el('td', { cls: 'name', text: c.name }), el('td', { cls: 'detail', text: c.detail })]);
      return tr;
    });
    report.appendChild(section('核验结果（' + name + '，用时 ' + (res.ms / 1000).toFixed(2) + ' 秒）', [
      el('table', { id: 'checks' }, [el('thead', null, [el('tr', null, [el('th', { text: '' }), el('th', { text: '项目' }), el('th', { text: '结果' })])]),
        el('tbody', null, rows)])]));
    if (record) renderRecord(record, res).forEach(function (n) { report.appendChild(n); });
  }

  async function run() {
    if (!current || busy) return;
    busy = true;
    $('again').disabled = true;
    var prog = $('progress');
    prog.textContent = '正在读取“' + current.name + '”……';
    $('verdict').className = '';
    $('report').textContent = '';
    $('pdfnote').style.display = 'none';
    await new Promise(function (r) { setTimeout(r, 0); });
    var last = 0;
    var res = await window.dsjVerify(current.bytes, current.name, {
      fingerprint: $('fingerprint').value,
      keepRecord: true,
      onProgress: function (done, total) {
        var now = performance.now();
        if (now - last < 100) return;
        last = now;
        prog.textContent = '正在重算签值……已计算 ' + done.toLocaleString('zh-CN') + ' 个' + (total ? '（候选对象共 ' + total.toLocaleString('zh-CN') + ' 个）' : '');
      }
    });
    prog.textContent = res.error ? '' : '核验完成，用时 ' + (res.ms / 1000).toFixed(2) + ' 秒。';
    render(res, current.name, res.record);
    res.record = undefined;
    window.dsjLastResult = res;
    busy = false;
    $('again').disabled = false;
    $('print').disabled = false;
  }

  async function take(file) {
    if (!file) return;
    if (file.size > 64 * 1024 * 1024) {
      current = { bytes: new Uint8Array(0), name: file.name };
      $('verdict').className = 'bad';
      $('verdict').textContent = '✘ 无法核验：文件“' + file.name + '”有 ' + (file.size / 1048576).toFixed(1) +
        ' MB，超过本页面能核验的 64 MB 上限。抽取记录（.json 或 .pdf）通常只有几 MB：请确认选对了文件；特别大的记录请用 dsj-desktop verify 核验。';
      $('report').textContent = '';
      return;
    }
    $('progress').textContent = '正在读取“' + file.name + '”……';
    var buf;
    try {
      buf = new Uint8Array(await file.arrayBuffer());
    } catch (e) {
      $('progress').textContent = '';
      $('verdict').className = 'bad';
      $('verdict').textContent = '✘ 无法读取文件“' + file.name + '”。';
      return;
    }
    current = { bytes: buf, name: file.name };
    await run();
  }

  function missingFeatures() {
    var miss = [];
    if (typeof Promise === 'undefined' || typeof TextEncoder === 'undefined') miss.push('基本脚本功能');
    if (typeof BigInt === 'undefined') miss.push('大整数（BigInt）');
    if (!(window.crypto && window.crypto.subtle)) miss.push('WebCrypto 加密功能（请双击本文件在浏览器中直接打开，或通过 https 网址打开）');
    return miss;
  }

  function init() {
    var miss = missingFeatures();
    if (miss.length) {
      var u = $('unsupported');
      u.classList.remove('hidden');
      u.textContent = '本浏览器缺少核验所需的功能：' + miss.join('、') + '。请换用新版 Chrome、Edge、Firefox，或统信/麒麟系统自带的新版浏览器。';
    }
    var drop = $('drop'), input = $('file');
    drop.addEventListener('click', function () { input.click(); });
    drop.addEventListener('keydown', function (e) { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); input.click(); } });
    input.addEventListener('change', function () { take(input.files[0]); input.value = ''; });
    ['dragenter', 'dragover'].forEach(function (t) {
      document.addEventListener(t, function (e) { e.preventDefault(); drop.classList.add('over'); });
    });
    ['dragleave', 'drop'].forEach(function (t) {
      document.addEventListener(t, function (e) { e.preventDefault(); drop.classList.remove('over'); });
    });
    document.addEventListener('drop', function (e) {
      var f = e.dataTransfer && e.dataTransfer.files && e.dataTransfer.files[0];
      if (f) take(f);
    });
    $('again').addEventListener('click', run);
    $('fingerprint').addEventListener('keydown', function (e) { if (e.key === 'Enter') run(); });
    $('print').addEventListener('click', function () { window.print(); });
  }

  /** For tests and scripts: verify bytes and show the result on the page, as a drop would. */
  window.dsjShow = async function (bytes, name, fingerprint) {
    if (fingerprint !== undefined) $('fingerprint').value = fingerprint;
    current = { bytes: bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes), name: name };
    await run();
    return window.dsjLastResult;
  };

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
