<?php
/**
 * Plugin Name:       Hello Audit: Activity Log
 * Plugin URI:        https://example.org/plugins/hello-audit/
 * Description:       Records who changed what on the site.
 * Version:           2.4.1
 * Requires at least: 6.0
 * Requires PHP:      7.4
 * Author:            Example Plugins Team
 * Author URI:        https://example.org/
 * License:           GPLv2 or later
 * License URI:       https://www.gnu.org/licenses/gpl-2.0.html
 * Text Domain:       hello-audit
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

define( 'HELLO_AUDIT_VERSION', '2.4.1' );
require_once __DIR__ . '/includes/class-logger.php';
