/* global window */
// The modeler with its properties panel, bundled by scripts/build-ui.mjs into
// api/ui/dist/modeler-bundle.js (the packages are ESM for bundlers, there is no
// prebuilt copy). The page script (modeler.js) creates it as
// `new window.PaknBpmn.Modeler({ container, propertiesPanel: { parent }, paknData })`.
//
// The panel shows what this hotline's engine reads, in the way the shipped
// diagram writes it (processes/complaint-handling.bpmn): candidate groups
// picked from the catalogue, due dates, conditions and timers as FEEL (linted
// as typed), the form key, the public status and SMS templates as
// camunda:property entries, and the server's validation problems of the
// selected element. Everything the engine does not run (assignee, listeners,
// scripts, async continuations…) is left out so an analyst is not offered it.
import BpmnModeler from 'bpmn-js/lib/Modeler';
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, CamundaPlatformPropertiesProviderModule, useService } from 'bpmn-js-properties-panel';
import { FeelEntry, Group, SelectEntry, isFeelEntryEdited, isSelectEntryEdited } from '@bpmn-io/properties-panel';
import { jsx } from '@bpmn-io/properties-panel/preact/jsx-runtime';
import { useEffect, useState } from '@bpmn-io/properties-panel/preact/hooks';
import { getProcessVariables } from '@bpmn-io/extract-process-variables';
import CamundaPlatformBehaviorsModule from 'camunda-bpmn-js-behaviors/lib/camunda-platform';
import camundaModdle from 'camunda-bpmn-moddle/resources/camunda.json';
import { lintExpression } from '@bpmn-io/feel-lint';
import { is, getBusinessObject } from 'bpmn-js/lib/util/ModelUtil';
import { translate as vietnamese } from './modeler.vi.js';
import '@bpmn-io/properties-panel/dist/assets/properties-panel.css';
import './modeler.panel.css';

/** Groups kept from the packaged providers: the rest configures engines other than ours. */
const KEPT_GROUPS = ['general', 'documentation', 'message', 'CamundaPlatform__Input', 'CamundaPlatform__Output', 'CamundaPlatform__ExtensionProperties'];

/** What a citizen sees while the case waits at a step (engine/hotline/contract.ts TASK_PROPERTIES). */
const PUBLIC_STATUSES = [
  ['received', 'Đã tiếp nhận'],
  ['handling', 'Đang xử lý'],
  ['reviewing', 'Đang duyệt nội dung trả lời'],
  ['answered', 'Đã trả lời'],
];

/** Roles that can be candidate groups (engine/hotline/policy.ts TASK_ROLES). */
const ROLES = [
  ['operator', 'Tổng đài viên (operator)'],
  ['coordinator', 'Điều phối — VP UBND tỉnh (coordinator)'],
  ['reviewer', 'Người duyệt (reviewer)'],
];

const TIMER_KINDS = [
  ['timeDate', 'Vào ngày giờ (timeDate)'],
  ['timeDuration', 'Sau khoảng thời gian (timeDuration)'],
  ['timeCycle', 'Lặp lại theo chu kỳ (timeCycle)'],
];

/**
 * FEEL written the engine's way (a leading "=") linted with @bpmn-io/feel-lint, the linter of the
 * editor itself; the message is Vietnamese, the linter's English detail follows it.
 */
export function lintFeel(value) {
  if (typeof value !== 'string' || !value.startsWith('=')) return null;
  const body = value.slice(1);
  if (!body.trim()) return 'Biểu thức FEEL trống.';
  const errors = lintExpression(body).filter((r) => r.severity === 'error');
  if (!errors.length) return null;
  const e = errors[0];
  return 'Biểu thức FEEL viết sai ở ký tự thứ ' + (e.from + 1) + ' («' + body.slice(e.from, Math.max(e.to, e.from + 1)) + '»): ' + e.message;
}

// ---- reading and writing camunda:property entries (publicStatus, template) ----

function propertiesOf(bo) {
  const ext = bo.get('extensionElements');
  return ext ? ext.get('values').find((v) => is(v, 'camunda:Properties')) : undefined;
}

function propertyValue(bo, name) {
  const props = propertiesOf(bo);
  const p = props && props.get('values').find((v) => v.name === name);
  return p ? p.value : undefined;
}

/** Set (or with an empty value remove) one camunda:property, creating the containers as needed, as one undoable command. */
function setProperty(element, name, value, { bpmnFactory, commandStack }) {
  const bo = getBusinessObject(element);
  const commands = [];
  let ext = bo.get('extensionElements');
  if (!ext) {
    ext = bpmnFactory.create('bpmn:ExtensionElements', { values: [] });
    ext.$parent = bo;
    commands.push({ cmd: 'element.updateModdleProperties', context: { element, moddleElement: bo, properties: { extensionElements: ext } } });
  }
  let props = propertiesOf(bo);
  if (!props) {
    if (!value) return;
    props = bpmnFactory.create('camunda:Properties', { values: [] });
    props.$parent = ext;
    commands.push({ cmd: 'element.updateModdleProperties', context: { element, moddleElement: ext, properties: { values: [...ext.get('values'), props] } } });
  }
  const existing = props.get('values').find((v) => v.name === name);
  if (existing && value) {
    commands.push({ cmd: 'element.updateModdleProperties', context: { element, moddleElement: existing, properties: { value } } });
  } else if (existing) {
    commands.push({ cmd: 'element.updateModdleProperties', context: { element, moddleElement: props, properties: { values: props.get('values').filter((v) => v !== existing) } } });
  } else if (value) {
    const p = bpmnFactory.create('camunda:Property', { name, value });
    p.$parent = props;
    commands.push({ cmd: 'element.updateModdleProperties', context: { element, moddleElement: props, properties: { values: [...props.get('values'), p] } } });
  }
  if (commands.length) commandStack.execute('properties-panel.multi-command-executor', commands);
}

/** The current value stays selectable even when the lists no longer hold it (a retired agency, a form removed). */
function withCurrent(options, current, label) {
  if (!current) return options;
  const known = options.some((o) => (o.children ? o.children.some((c) => c.value === current) : o.value === current));
  return known ? options : [{ value: current, label: current + ' — ' + label }, ...options];
}

/**
 * The variables the diagram itself sets (output parameters, result variables), offered by the FEEL
 * editor as it completes a name; the server's check (feel-unknown-name) still has the last word.
 */
function useDiagramVariables(element) {
  const [variables, setVariables] = useState([]);
  useEffect(() => {
    let root = element;
    while (root.parent) root = root.parent;
    const bo = getBusinessObject(root);
    const processes = is(bo, 'bpmn:Collaboration') ? bo.get('participants').map((p) => p.processRef).filter(Boolean) : [bo];
    let current = true;
    Promise.all(processes.map((p) => getProcessVariables(p))).then((lists) => {
      if (!current) return;
      const byName = new Map();
      for (const v of lists.flat()) byName.set(v.name, (byName.get(v.name) || []).concat(v.origin.map((o) => o.name || o.id)));
      setVariables([...byName].map(([name, origins]) => ({ name, info: 'Đặt ở: ' + [...new Set(origins)].join(', ') })));
    });
    return () => {
      current = false;
    };
  }, [element]);
  return variables;
}

// ---- entries ----

function CandidateGroups(props) {
  const { element, id } = props;
  const modeling = useService('modeling');
  const data = useService('config.paknData');
  const bo = getBusinessObject(element);
  const getValue = () => bo.get('camunda:candidateGroups') || '';
  const setValue = (value) => modeling.updateProperties(element, { 'camunda:candidateGroups': value || undefined });
  const getOptions = () => withCurrent([
    { value: '', label: '— chưa giao —' },
    { label: 'Vai trò', children: ROLES.map(([value, label]) => ({ value, label })) },
    { label: 'Theo dữ liệu hồ sơ', children: [{ value: '=agency', label: 'Cơ quan do bảng phân loại chọn (=agency)' }] },
    { label: 'Cơ quan (danh mục)', children: data.agencies.map((a) => ({ value: a.code, label: a.name + ' (' + a.code + ')' })) },
  ], getValue(), 'không có trong danh mục hôm nay');
  return jsx(SelectEntry, {
    element, id, getValue, setValue, getOptions,
    label: 'Nhóm xử lý (cơ quan hoặc vai trò)',
    description: 'Công việc hiện trong hộp việc của nhóm này.',
  });
}

function FormKey(props) {
  const { element, id } = props;
  const modeling = useService('modeling');
  const data = useService('config.paknData');
  const bo = getBusinessObject(element);
  const getValue = () => bo.get('camunda:formKey') || '';
  const setValue = (value) => modeling.updateProperties(element, { 'camunda:formKey': value || undefined });
  const getOptions = () => withCurrent([{ value: '', label: '— không có biểu mẫu —' }, ...data.forms.map((f) => ({ value: f, label: f }))], getValue(), 'chưa được triển khai');
  return jsx(SelectEntry, { element, id, getValue, setValue, getOptions, label: 'Biểu mẫu (formKey)', description: 'Biểu mẫu cán bộ điền khi hoàn thành công việc.' });
}

function DueDate(props) {
  const { element, id } = props;
  const modeling = useService('modeling');
  const debounce = useService('debounceInput');
  const bo = getBusinessObject(element);
  const variables = useDiagramVariables(element);
  return jsx(FeelEntry, {
    element, id, debounce, variables, feel: 'required',
    label: 'Hạn xử lý (FEEL)',
    description: 'Ví dụ: add working days(now(), 2), hoặc dueAt (hạn trả lời của hồ sơ).',
    getValue: () => bo.get('camunda:dueDate') || '',
    setValue: (value) => modeling.updateProperties(element, { 'camunda:dueDate': value || undefined }),
    validate: lintFeel,
  });
}

function PropertySelect(props) {
  const { element, id, name, label, description, options } = props;
  const bpmnFactory = useService('bpmnFactory');
  const commandStack = useService('commandStack');
  const bo = getBusinessObject(element);
  const getValue = () => propertyValue(bo, name) || '';
  const setValue = (value) => setProperty(element, name, value, { bpmnFactory, commandStack });
  return jsx(SelectEntry, { element, id, label, description, getValue, setValue, getOptions: () => withCurrent(options(), getValue(), 'không có') });
}

function SmsTemplate(props) {
  const data = useService('config.paknData');
  const bo = getBusinessObject(props.element);
  const current = propertyValue(bo, 'template');
  const text = current && data.templates[current];
  return jsx(PropertySelect, {
    ...props,
    name: 'template',
    label: 'Mẫu tin nhắn',
    description: text ? 'Nội dung: ' + text : 'Mẫu trong processes/sms/templates.json; không chọn thì dùng mã bước làm tên mẫu.',
    options: () => [{ value: '', label: '— theo mã bước —' }, ...Object.keys(data.templates).map((t) => ({ value: t, label: t }))],
  });
}

function conditionOf(bo) {
  return bo.get('conditionExpression');
}

function Condition(props) {
  const { element, id } = props;
  const modeling = useService('modeling');
  const bpmnFactory = useService('bpmnFactory');
  const debounce = useService('debounceInput');
  const bo = getBusinessObject(element);
  // The shipped diagram writes conditions without "=", with language="feel"; the editor shows them as FEEL.
  const getValue = () => {
    const c = conditionOf(bo);
    return c && c.body ? '=' + c.body : '';
  };
  const setValue = (value) => {
    const body = (value || '').replace(/^=/, '').trim();
    if (!body) return modeling.updateProperties(element, { conditionExpression: undefined });
    modeling.updateProperties(element, { conditionExpression: bpmnFactory.create('bpmn:FormalExpression', { body, language: 'feel' }) });
  };
  const variables = useDiagramVariables(element);
  return jsx(FeelEntry, {
    element, id, debounce, variables, feel: 'required', getValue, setValue, validate: lintFeel,
    label: 'Điều kiện (FEEL)',
    description: 'Ví dụ: outcome = "transfer". Đi theo mũi tên này khi điều kiện đúng.',
  });
}

function timerOf(element) {
  const bo = getBusinessObject(element);
  return (bo.get('eventDefinitions') || []).find((d) => is(d, 'bpmn:TimerEventDefinition'));
}

function timerKind(timer) {
  return TIMER_KINDS.map(([k]) => k).find((k) => timer.get(k));
}

function TimerKind(props) {
  const { element, id } = props;
  const modeling = useService('modeling');
  const bpmnFactory = useService('bpmnFactory');
  const timer = timerOf(element);
  const getValue = () => timerKind(timer) || '';
  const setValue = (kind) => {
    const old = timerKind(timer);
    const body = old ? timer.get(old).body : '';
    const update = { timeDate: undefined, timeDuration: undefined, timeCycle: undefined };
    if (kind) update[kind] = bpmnFactory.create('bpmn:FormalExpression', { body });
    modeling.updateModdleProperties(element, timer, update);
  };
  return jsx(SelectEntry, { element, id, getValue, setValue, label: 'Loại hẹn giờ', getOptions: () => [{ value: '', label: '— chưa chọn —' }, ...TIMER_KINDS.map(([value, label]) => ({ value, label }))] });
}

function TimerValue(props) {
  const { element, id } = props;
  const modeling = useService('modeling');
  const bpmnFactory = useService('bpmnFactory');
  const debounce = useService('debounceInput');
  const timer = timerOf(element);
  const kind = timerKind(timer);
  const variables = useDiagramVariables(element);
  return jsx(FeelEntry, {
    element, id, debounce, variables, feel: 'optional', validate: lintFeel,
    label: 'Thời điểm hoặc khoảng thời gian',
    description: 'FEEL (nút fx), ví dụ add working days(dueAt, -2); hoặc ISO 8601: 2026-12-31T17:00:00+07:00, P2D, R3/PT1H.',
    getValue: () => (kind && timer.get(kind) ? timer.get(kind).body || '' : ''),
    setValue: (value) => {
      const existing = timer.get(kind);
      if (existing) modeling.updateModdleProperties(element, existing, { body: value || '' });
      else modeling.updateModdleProperties(element, timer, { [kind]: bpmnFactory.create('bpmn:FormalExpression', { body: value || '' }) });
    },
  });
}

function ProblemEntry(props) {
  const { problem } = props;
  return jsx('div', {
    class: 'bio-properties-panel-entry pakn-problem ' + problem.severity,
    'data-rule': problem.rule,
    title: problem.message,
    children: (problem.severity === 'error' ? 'Lỗi: ' : 'Lưu ý: ') + problem.text,
  });
}

/** Which entry a server rule is about, so the problem shows under that field too. */
function entryOfRule(rule, element) {
  if (rule.startsWith('candidate-group') || rule === 'impact-no-candidate-group') return 'pakn-candidateGroups';
  if (rule.startsWith('form-')) return 'pakn-formKey';
  if (rule.startsWith('public-status')) return 'pakn-publicStatus';
  if (rule.includes('template')) return 'pakn-template';
  if (rule === 'timer' || rule === 'impact-timer-at-once' || (rule.startsWith('feel-') && timerOf(element))) return 'pakn-timerValue';
  if (rule === 'condition-not-feel' || (rule.startsWith('feel-') && is(element, 'bpmn:SequenceFlow'))) return 'pakn-condition';
  return null;
}

// ---- the provider ----

class PaknPropertiesProvider {
  constructor(propertiesPanel, eventBus, config) {
    this._data = config.paknData;
    this._eventBus = eventBus;
    // Runs after the packaged providers (lower priority): it trims their groups and adds ours.
    propertiesPanel.registerProvider(100, this);
    eventBus.on('selection.changed', (e) => {
      this._selected = e.newSelection.length === 1 ? e.newSelection[0] : null;
      this._showErrors();
    });
  }

  /** The server's problems (already in Vietnamese) of the element that is selected, on its fields. */
  _showErrors() {
    const selected = this._selected;
    const errors = {};
    if (selected) {
      for (const p of this._data.problems.filter((x) => x.elementId === selected.id && x.severity === 'error')) {
        const entry = entryOfRule(p.rule, selected);
        if (entry && !errors[entry]) errors[entry] = p.text;
      }
    }
    this._eventBus.fire('propertiesPanel.setErrors', { errors });
  }

  getGroups(element) {
    return (groups) => {
      const kept = groups.filter((g) => KEPT_GROUPS.includes(g.id));
      const ours = [];
      const problems = this._data.problems.filter((p) => p.elementId === element.id);
      if (problems.length) {
        ours.push({ id: 'pakn-problems', label: 'Kết quả kiểm tra (' + problems.length + ')', component: Group, shouldOpen: true, entries: problems.map((problem, i) => ({ id: 'pakn-problem-' + i, component: ProblemEntry, problem })) });
      }
      if (is(element, 'bpmn:UserTask')) {
        ours.push({
          id: 'pakn-task',
          label: 'Giao việc',
          component: Group,
          shouldOpen: true,
          entries: [
            { id: 'pakn-candidateGroups', component: CandidateGroups, isEdited: isSelectEntryEdited },
            { id: 'pakn-dueDate', component: DueDate, isEdited: isFeelEntryEdited },
            { id: 'pakn-formKey', component: FormKey, isEdited: isSelectEntryEdited },
            {
              id: 'pakn-publicStatus', component: PropertySelect, isEdited: isSelectEntryEdited, name: 'publicStatus',
              label: 'Trạng thái công dân thấy', description: 'Điều người dân thấy khi tra cứu hồ sơ đang chờ ở bước này.',
              options: () => [{ value: '', label: '— chưa đặt —' }, ...PUBLIC_STATUSES.map(([value, label]) => ({ value, label: label + ' (' + value + ')' }))],
            },
          ],
        });
      }
      if (is(element, 'bpmn:SendTask') || (is(element, 'bpmn:ServiceTask') && ['sms', 'notify'].includes(getBusinessObject(element).get('camunda:topic')))) {
        ours.push({ id: 'pakn-message', label: 'Tin nhắn', component: Group, shouldOpen: true, entries: [{ id: 'pakn-template', component: SmsTemplate, isEdited: isSelectEntryEdited }] });
      }
      if (is(element, 'bpmn:SequenceFlow') && element.source && (is(element.source, 'bpmn:ExclusiveGateway') || is(element.source, 'bpmn:InclusiveGateway'))) {
        ours.push({ id: 'pakn-condition-group', label: 'Điều kiện', component: Group, shouldOpen: true, entries: [{ id: 'pakn-condition', component: Condition, isEdited: isFeelEntryEdited }] });
      }
      const timer = timerOf(element);
      if (timer) {
        const entries = [{ id: 'pakn-timerKind', component: TimerKind, isEdited: isSelectEntryEdited }];
        if (timerKind(timer)) entries.push({ id: 'pakn-timerValue', component: TimerValue, isEdited: isFeelEntryEdited });
        ours.push({ id: 'pakn-timer', label: 'Hẹn giờ', component: Group, shouldOpen: true, entries });
      }
      // General first, then what this hotline reads, then the rest.
      const general = kept.filter((g) => g.id === 'general');
      return [...(problems.length ? ours.slice(0, 1) : []), ...general, ...ours.slice(problems.length ? 1 : 0), ...kept.filter((g) => g.id !== 'general')];
    };
  }
}
PaknPropertiesProvider.$inject = ['propertiesPanel', 'eventBus', 'config'];

const PaknPanelModule = {
  __init__: ['paknPropertiesProvider'],
  paknPropertiesProvider: ['type', PaknPropertiesProvider],
};

const VietnameseModule = { translate: ['value', vietnamese] };

/** bpmn-js's modeler with the Camunda 7 moddle, its behaviours, the panel and Vietnamese labels. */
class PaknModeler extends BpmnModeler {
  constructor(options) {
    const paknData = Object.assign({ agencies: [], forms: [], templates: {}, problems: [] }, options.paknData);
    super(Object.assign({}, options, { paknData, moddleExtensions: Object.assign({ camunda: camundaModdle }, options.moddleExtensions) }));
    this._paknData = paknData;
  }

  /** New problems from the server (each with its Vietnamese `text`): shown again in the panel. */
  setProblems(problems) {
    this._paknData.problems = problems;
    this.get('eventBus').fire('propertiesPanel.providersChanged');
    this.get('paknPropertiesProvider')._showErrors();
  }
}

PaknModeler.prototype._modules = [
  ...BpmnModeler.prototype._modules,
  BpmnPropertiesPanelModule,
  BpmnPropertiesProviderModule,
  CamundaPlatformPropertiesProviderModule,
  CamundaPlatformBehaviorsModule,
  PaknPanelModule,
  VietnameseModule,
];

window.PaknBpmn = { Modeler: PaknModeler, lintFeel };
