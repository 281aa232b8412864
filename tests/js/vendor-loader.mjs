// Resolve hook: a URL path containing /vendor/ (served from node_modules by the server) -> node_modules.
const ROOT = new URL('../../', import.meta.url);

export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context).catch((err) => {
    if (!specifier.includes('/vendor/')) throw err;
    return null;
  });
  if (resolved && !resolved.url.includes('/tailapp/vendor/')) return resolved;
  const rest = specifier.slice(specifier.indexOf('/vendor/') + '/vendor/'.length);
  return { url: new URL(`node_modules/${rest}`, ROOT).href, shortCircuit: true };
}
