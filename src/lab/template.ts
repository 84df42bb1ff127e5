/**
 * A deliberately small template renderer for the lab's configuration files (configs/*.tmpl).
 *
 *   {{name}}                 the value of `name` (must be a string or a number)
 *   {{#list}} … {{/list}}    repeated for each element of an array, with the element's fields in scope;
 *                            rendered once with the object's fields in scope when the value is an object;
 *                            dropped when the value is missing, false, null or an empty array.
 *
 * Every placeholder must resolve: a missing value is an error naming the placeholder and the template,
 * so a typo never ships a config with a literal "{{…}}" in it.
 */
export type TemplateValue = string | number | boolean | null | undefined | TemplateScope | TemplateScope[];
export interface TemplateScope {
  [key: string]: TemplateValue;
}

const SECTION = /\{\{#(\w+)\}\}\n?([\s\S]*?)\{\{\/\1\}\}\n?/g;
const VARIABLE = /\{\{(\w+)\}\}/g;

export function renderTemplate(template: string, scope: TemplateScope, templateName = 'template'): string {
  const withSections = template.replace(SECTION, (_whole, key: string, body: string) => {
    const value = scope[key];
    if (value === undefined || value === null || value === false) return '';
    if (Array.isArray(value)) {
      return value.map((item) => renderTemplate(body, { ...scope, ...item }, templateName)).join('');
    }
    if (typeof value === 'object') return renderTemplate(body, { ...scope, ...value }, templateName);
    return renderTemplate(body, scope, templateName);
  });
  return withSections.replace(VARIABLE, (_whole, key: string) => {
    const value = scope[key];
    if (typeof value === 'string' || typeof value === 'number') return String(value);
    throw new Error(`${templateName}: placeholder {{${key}}} has no value`);
  });
}
