// bpmn-moddle 10 ships no types for its ESM entry; one line is enough for our use.
declare module 'bpmn-moddle' {
  export class BpmnModdle {
    constructor(packages?: Record<string, unknown>, options?: Record<string, unknown>);
    fromXML(xml: string, typeName?: string): Promise<{ rootElement: any; references: any[]; warnings: Array<{ message: string; element?: any; property?: string; error?: Error }>; elementsById: Record<string, any> }>;
    toXML(element: any, options?: Record<string, unknown>): Promise<{ xml: string }>;
  }
  export default BpmnModdle;
}
