import { browserExtractor } from './browser.js';
import { cloudExtractor } from './cloud.js';
import { curlExtractor } from './curl.js';
import { dotnetExtractor } from './dotnet.js';
import { envoyExtractor } from './envoy.js';
import type { Extractor } from './extractor.js';
import { genericExtractor } from './generic.js';
import { goExtractor } from './go.js';
import { grpcExtractor } from './grpc.js';
import { haproxyExtractor } from './haproxy.js';
import { httpExtractor } from './http.js';
import { ingressExtractor } from './ingress.js';
import { javaExtractor } from './java.js';
import { jwtExtractor } from './jwt.js';
import { k8sExtractor } from './k8s.js';
import { localizedExtractor } from './localized.js';
import { nginxExtractor } from './nginx.js';
import { nodeExtractor } from './node.js';
import { pingExtractor } from './ping.js';
import { platformExtractor } from './platform.js';
import { pythonExtractor } from './python.js';
import { socketExtractor } from './socket.js';
import { squidExtractor } from './squid.js';
import { zhExtractor } from './zh.js';

/**
 * The registry: every text extractor, one per source format. Adding a format means one new file
 * in this folder and one line here.
 */
export const EXTRACTORS: readonly Extractor[] = [
  httpExtractor,
  nginxExtractor,
  haproxyExtractor,
  envoyExtractor,
  squidExtractor,
  cloudExtractor,
  ingressExtractor,
  curlExtractor,
  nodeExtractor,
  pythonExtractor,
  javaExtractor,
  goExtractor,
  dotnetExtractor,
  socketExtractor,
  grpcExtractor,
  pingExtractor,
  platformExtractor,
  browserExtractor,
  jwtExtractor,
  k8sExtractor,
  zhExtractor,
  localizedExtractor,
  genericExtractor,
];
