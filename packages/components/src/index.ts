/**
 * @dsim/components: component models (services, clients, load balancers, caches, brokers, resilience)
 * built only on @dsim/core's public API. The package is part of the workspace layout now; its first
 * models land with the network and request/response layer.
 */
export {};
