package dev.mysqlpool.proxy.backend;

import dev.mysqlpool.proxy.config.ProxyConfig.User;

/**
 * What makes two backend connections interchangeable: the account they are logged in as, the
 * capability flags they were opened with (which no later command renegotiates), and the handshake
 * collation (which COM_RESET_CONNECTION restores).
 */
public record PoolKey(User user, int capabilities, int collation) {}
