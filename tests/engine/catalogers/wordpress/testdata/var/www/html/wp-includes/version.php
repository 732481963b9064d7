<?php
/**
 * WordPress Version
 *
 * Contains version information for the current WordPress release.
 *
 * $wp_version = '0.0.1'; (a comment, not the version)
 *
 * @package WordPress
 * @since 1.2.0
 */

/**
 * The WordPress version string.
 *
 * Holds the current version number for WordPress core. Used to bust caches
 * and to enable development mode for scripts when running from the /src directory.
 *
 * @global string $wp_version
 */
$wp_version = '6.4.3';

/**
 * Holds the WordPress DB revision, increments when changes are made to the WordPress DB schema.
 *
 * @global int $wp_db_version
 */
$wp_db_version = 56657;

// $wp_version = '9.9.9';
$required_php_version = '7.0.0';
