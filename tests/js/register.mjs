// Lets node import the browser modules: their "../../vendor/<pkg>/…" imports map to node_modules.
import { register } from 'node:module';

register(new URL('./vendor-loader.mjs', import.meta.url));
