// dmn-moddle 12 ships no types. Its ESM entry has only the named export
// `DmnModdle` (a factory that also works with `new`); there is no default export.
// Only the properties engine/dmn.ts reads are declared.
declare module 'dmn-moddle' {
  export interface DmnElement {
    $type: string;
    id?: string;
    name?: string;
    label?: string;
    description?: string;
  }

  /** dmn:LiteralExpression and dmn:UnaryTests both carry their FEEL in `text`. */
  export interface DmnText extends DmnElement {
    text?: string;
    typeRef?: string;
    expressionLanguage?: string;
  }

  export interface DmnInputClause extends DmnElement {
    inputExpression?: DmnText;
    inputValues?: DmnText;
  }

  export interface DmnOutputClause extends DmnElement {
    typeRef?: string;
    outputValues?: DmnText;
    defaultOutputEntry?: DmnText;
  }

  export interface DmnDecisionRule extends DmnElement {
    inputEntry?: DmnText[];
    outputEntry?: DmnText[];
  }

  export interface DmnDecisionTable extends DmnElement {
    hitPolicy?: string;
    aggregation?: string;
    input?: DmnInputClause[];
    output?: DmnOutputClause[];
    rule?: DmnDecisionRule[];
  }

  export interface DmnDecision extends DmnElement {
    decisionLogic?: DmnElement;
  }

  export interface DmnDefinitions extends DmnElement {
    namespace?: string;
    drgElement?: DmnElement[];
  }

  export interface DmnParseWarning {
    message: string;
    element?: DmnElement;
    property?: string;
    error?: Error;
  }

  export interface DmnParseResult {
    rootElement: DmnDefinitions;
    references: unknown[];
    warnings: DmnParseWarning[];
    elementsById: Record<string, DmnElement>;
  }

  export class DmnModdle {
    constructor(packages?: Record<string, unknown>, options?: Record<string, unknown>);
    fromXML(xml: string, typeName?: string): Promise<DmnParseResult>;
    toXML(element: DmnElement, options?: Record<string, unknown>): Promise<{ xml: string }>;
  }
}
