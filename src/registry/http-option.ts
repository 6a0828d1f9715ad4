/** google.api.HttpRule, as parsed from a method option or a mapping file (proto field names). */
export interface HttpRule {
  selector?: string;
  get?: string;
  put?: string;
  post?: string;
  delete?: string;
  patch?: string;
  custom?: { kind: string; path: string };
  body?: string;
  response_body?: string;
  additional_bindings?: HttpRule | HttpRule[];
}
